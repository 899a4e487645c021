using System.Security.Cryptography;
using System.Text;
using Pipeline.Contracts;
using Pipeline.Dicom;

namespace Pipeline.Ingest.Series;

/// <summary>A series ready to be (re)published as a denoise job.</summary>
/// <param name="Key">Study and series UIDs.</param>
/// <param name="Modality">Modality of the series.</param>
/// <param name="Revision">1 for the first job; higher when late instances reopened a processed series.</param>
/// <param name="Instances">Instances in slice order.</param>
/// <param name="NotDenoisable">Instances that cannot be denoised, with reasons (reported, not dropped).</param>
/// <param name="Duplicates">Objects left out because another object of the series, kept, has the same SOP Instance UID (reported, not dropped).</param>
/// <param name="Fingerprint">Identifies the exact instance set; passed back to <see cref="SeriesAssembler.MarkPublished"/>.</param>
/// <param name="LastChange">When the last new instance of the series was seen (its drop, as ingest saw it).</param>
internal sealed record CompleteSeries(
    SeriesKey Key,
    string Modality,
    int Revision,
    IReadOnlyList<InstanceHeader> Instances,
    IReadOnlyList<InstanceHeader> NotDenoisable,
    IReadOnlyList<DuplicateInstance> Duplicates,
    string Fingerprint,
    DateTimeOffset LastChange);

/// <summary>An object whose SOP Instance UID another object of its series, <paramref name="Kept"/>, already holds.</summary>
internal sealed record DuplicateInstance(InstanceHeader Instance, ObjectRef Kept)
{
    /// <summary>The failure record's reason; names the kept object's key (for the record, not for logs).</summary>
    public string Reason => $"duplicate SOP Instance UID {Instance.SopInstanceUid}: the series' object {Kept.Key} has it too and was kept";
}

/// <summary>Identifies a series.</summary>
internal readonly record struct SeriesKey(string StudyInstanceUid, string SeriesInstanceUid);

/// <summary>
/// Groups instances into series and decides when a series is complete. Three signals, strongest first:
/// a folder manifest listing the expected objects (complete exactly when all were seen), a folder
/// marker without a list (complete at once), else a quiet period with no new instance. A change to a
/// published series (late or re-uploaded instance) reopens it: after a quiet period it is due again
/// with the next revision, so its outputs are replaced as a whole. A study holds at most
/// <paramref name="maxSeriesPerStudy"/> series. Not thread-safe: one owner.
/// </summary>
internal sealed class SeriesAssembler(TimeSpan quietPeriod, int maxSeriesPerStudy = int.MaxValue)
{
    private readonly Dictionary<SeriesKey, SeriesState> _series = [];
    private readonly Dictionary<string, int> _seriesPerStudy = new(StringComparer.Ordinal);
    private readonly Dictionary<ObjectRef, string?> _seenObjects = []; // object -> ETag
    private readonly List<FolderMarker> _markers = [];

    /// <summary>Series currently tracked.</summary>
    public int SeriesCount => _series.Count;

    /// <summary>Series with changes not published yet (waiting for their quiet period or their manifest).</summary>
    public int SeriesWaiting => _series.Values.Count(s => s.Fingerprint() != s.PublishedFingerprint);

    /// <summary>
    /// Records an instance. Returns false when this exact object (same ETag) was already recorded:
    /// duplicate events and reconciliation listings change nothing.
    /// </summary>
    public bool ObserveInstance(InstanceHeader header, string? etag, DateTimeOffset now)
    {
        if (!ObserveObject(header.Object, etag)) return false;
        var key = new SeriesKey(header.StudyInstanceUid, header.SeriesInstanceUid);
        if (!_series.TryGetValue(key, out var state))
        {
            _series[key] = state = new SeriesState(header.Modality);
            _seriesPerStudy[key.StudyInstanceUid] = _seriesPerStudy.GetValueOrDefault(key.StudyInstanceUid) + 1;
        }
        state.Instances[header.Object] = header;
        state.ETags[header.Object] = etag;
        state.LastChange = now;
        return true;
    }

    /// <summary>
    /// Why <paramref name="header"/> may not be recorded: it would open one more series in a study that has the most
    /// series allowed already (first come, first kept). Null when it may.
    /// </summary>
    public string? WhyRefused(InstanceHeader header) =>
        !_series.ContainsKey(new SeriesKey(header.StudyInstanceUid, header.SeriesInstanceUid))
        && _seriesPerStudy.GetValueOrDefault(header.StudyInstanceUid) >= maxSeriesPerStudy
            ? $"its study already has {maxSeriesPerStudy} series, the most Limits:MaxSeriesPerStudy allows; series {header.SeriesInstanceUid} is not taken"
            : null;

    /// <summary>True when this exact object (same ETag) was already recorded: its header need not be read again.</summary>
    public bool HasSeen(ObjectRef obj, string? etag) => _seenObjects.TryGetValue(obj, out var seenEtag) && seenEtag == etag;

    /// <summary>Records an object that failed (unreadable, refused), so a manifest listing it is satisfied. Returns false
    /// when this exact object was already recorded (its failure is recorded already).</summary>
    public bool ObserveFailed(ObjectRef obj, string? etag) => ObserveObject(obj, etag);

    /// <summary>
    /// Records a folder marker: every series whose instances live under <paramref name="folder"/>
    /// is complete once all <paramref name="expectedKeys"/> (full keys in the same bucket) were seen,
    /// or at once when no list is given.
    /// </summary>
    public void ObserveMarker(string bucket, string folder, IReadOnlyCollection<string>? expectedKeys)
    {
        _markers.RemoveAll(m => m.Bucket == bucket && m.Folder == folder);
        _markers.Add(new FolderMarker(bucket, folder, expectedKeys?.ToHashSet(StringComparer.Ordinal)));
    }

    /// <summary>Series that are complete and not yet published in their current form.</summary>
    public IReadOnlyList<CompleteSeries> Due(DateTimeOffset now)
    {
        var due = new List<CompleteSeries>();
        foreach (var (key, state) in _series)
        {
            var fingerprint = state.Fingerprint();
            if (fingerprint == state.PublishedFingerprint) continue;
            var reopened = state.PublishedRevision > 0;
            var quiet = now - state.LastChange >= quietPeriod;
            if (!(quiet || (!reopened && MarkerSatisfied(state)))) continue;

            var (unique, duplicates) = UniqueBySopInstanceUid(state.Instances.Values);
            var ordered = SliceOrder.Order(unique, i => (i.SlicePosition, i.InstanceNumber, i.Object.Key));
            due.Add(new CompleteSeries(key, state.Modality, state.PublishedRevision + 1,
                ordered.Where(i => i.NotDenoisableReason is null).ToList(),
                ordered.Where(i => i.NotDenoisableReason is not null).ToList(),
                duplicates,
                fingerprint,
                state.LastChange));
        }
        return due;
    }

    /// <summary>Records that a job for this exact instance set was published.</summary>
    public void MarkPublished(CompleteSeries series)
    {
        var state = _series[series.Key];
        state.PublishedRevision = series.Revision;
        state.PublishedFingerprint = series.Fingerprint;
    }

    /// <summary>
    /// Drops every series published in its current form, with what was seen of its objects: for a one-pass listing (a batch),
    /// which does not meet them again, so its memory holds the series of one study folder, not of the whole listing. The
    /// per-study series counts stay (one number per study).
    /// </summary>
    public void ForgetPublished()
    {
        foreach (var (key, state) in _series.Where(s => s.Value.Fingerprint() == s.Value.PublishedFingerprint).ToList())
        {
            _series.Remove(key);
            foreach (var obj in state.Instances.Keys)
                _seenObjects.Remove(obj);
        }
    }

    /// <summary>Earliest time a quiet period ends for a series with unpublished changes (when to look again).</summary>
    public DateTimeOffset? NextQuietDeadline() =>
        _series.Values.Where(s => s.Fingerprint() != s.PublishedFingerprint)
            .Select(s => (DateTimeOffset?)(s.LastChange + quietPeriod))
            .Min();

    /// <summary>
    /// A SOP Instance UID names one instance (PS3.3 C.12.1.1.1), and its derived object's key with it: of objects sharing
    /// one, the first in key order is kept (the same choice whatever order they arrived in), the others are duplicates.
    /// </summary>
    private static (List<InstanceHeader> Unique, List<DuplicateInstance> Duplicates) UniqueBySopInstanceUid(IEnumerable<InstanceHeader> instances)
    {
        var kept = new Dictionary<string, InstanceHeader>(StringComparer.Ordinal);
        var duplicates = new List<DuplicateInstance>();
        foreach (var instance in instances.OrderBy(i => i.Object.Key, StringComparer.Ordinal))
        {
            if (!kept.TryAdd(instance.SopInstanceUid, instance))
                duplicates.Add(new DuplicateInstance(instance, kept[instance.SopInstanceUid].Object));
        }
        return ([.. kept.Values], duplicates);
    }

    private bool ObserveObject(ObjectRef obj, string? etag)
    {
        if (HasSeen(obj, etag)) return false;
        _seenObjects[obj] = etag;
        return true;
    }

    private bool MarkerSatisfied(SeriesState state)
    {
        foreach (var marker in _markers)
        {
            if (!state.Instances.Keys.Any(o => o.Bucket == marker.Bucket && o.Key.StartsWith(marker.Folder, StringComparison.Ordinal)))
                continue;
            if (marker.ExpectedKeys is null
                || marker.ExpectedKeys.All(k => _seenObjects.ContainsKey(new ObjectRef(marker.Bucket, k))))
                return true;
        }
        return false;
    }

    private sealed class SeriesState(string modality)
    {
        public string Modality { get; } = modality;
        public Dictionary<ObjectRef, InstanceHeader> Instances { get; } = [];
        public Dictionary<ObjectRef, string?> ETags { get; } = [];
        public DateTimeOffset LastChange { get; set; }
        public int PublishedRevision { get; set; }
        public string? PublishedFingerprint { get; set; }

        // Every change to the set (a new object, or a re-upload of one) changes it.
        public string Fingerprint() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            string.Join('\n', Instances.Values.Select(i => $"{i.Object}|{i.SopInstanceUid}|{ETags[i.Object]}").Order(StringComparer.Ordinal)))));
    }

    private sealed record FolderMarker(string Bucket, string Folder, HashSet<string>? ExpectedKeys);
}
