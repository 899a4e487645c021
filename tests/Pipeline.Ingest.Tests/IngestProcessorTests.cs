using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Contracts;
using Pipeline.Dicom;
using Pipeline.Hosting;
using Pipeline.Registry;
using Pipeline.Storage;
using Pipeline.Storage.Local;

namespace Pipeline.Ingest.Tests;

/// <summary>Ingest against a real local-folder store, real DICOM files and MassTransit's in-memory test harness.</summary>
public sealed class IngestProcessorTests : IAsyncLifetime
{
    private const string Study = "1.2.826.0.1.3680043.2.1125.1";
    private const string Series = "1.2.826.0.1.3680043.2.1125.1.2";
    private readonly string _root = Directory.CreateTempSubdirectory("ingest-tests-").FullName;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 25, 1, 0, 0, TimeSpan.Zero));
    private readonly IngestOptions _options = new() { QuietPeriod = TimeSpan.FromMinutes(1), ModelVersion = "cdae/1" };
    private LimitsOptions Limits { get; } = new();
    private LocalFolderObjectStore _store = null!;
    private ServiceProvider _provider = null!;
    private ITestHarness _harness = null!;

    public async Task InitializeAsync()
    {
        _store = new LocalFolderObjectStore(new LocalFolderStorageOptions { Root = _root });
        await _store.EnsureBucketAsync("incoming");
        await _store.EnsureBucketAsync("denoised");
        _provider = new ServiceCollection().AddMassTransitTestHarness().BuildServiceProvider(true);
        _harness = _provider.GetRequiredService<ITestHarness>();
        _harness.TestInactivityTimeout = TimeSpan.FromMilliseconds(300);
        await _harness.Start();
    }

    public async Task DisposeAsync()
    {
        await _harness.Stop();
        await _provider.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private IngestProcessor NewProcessor(IObjectStore? store = null, ILogger<IngestProcessor>? logger = null) =>
        new(store ?? _store, _harness.Bus, Options.Create(_options), Options.Create(new StorageOptions()), new ModelRegistry(_store, new ModelRegistryOptions()),
            Options.Create(new ModelRegistrySettings()), _clock, Options.Create(Limits), Options.Create(new BusOptions()), logger ?? NullLogger<IngestProcessor>.Instance);

    private static byte[] WithUid(byte[] slice, DicomTag tag, string uid)
    {
        var file = DicomFile.Open(slice);
        file.Dataset.SetString(tag, uid);
        using var buffer = new MemoryStream();
        file.Save(buffer);
        return buffer.ToArray();
    }

    private async Task<FailureRecord> RecordOf(string key)
    {
        var failed = _harness.Published.Select<InstanceFailed>().Single(f => f.Context.Message.Source.Key == key).Context.Message;
        return JsonSerializer.Deserialize<FailureRecord>(await _store.GetBytesAsync("denoised", failed.FailureRecord.Key))!;
    }

    internal static byte[] Slice(int instanceNumber, double z, string series = Series, int privateBytes = 0, string study = Study)
    {
        var file = MrImage.Create(new MrImageSpec
        {
            StudyInstanceUid = study,
            SeriesInstanceUid = series,
            SopInstanceUid = $"{series}.{instanceNumber}",
            InstanceNumber = instanceNumber,
            FrameOfReferenceUid = study + ".9",
            Rows = 4,
            Columns = 4,
            Plane = new ImagePlane { PositionPatient = [0, 0, z], OrientationPatient = [1, 0, 0, 0, 1, 0], PixelSpacing = [1, 1] },
        }, new float[16]);
        if (privateBytes > 0)
            file.Dataset.SetString(new DicomTag(0x0029, 0x0010), "PIPELINE TEST").SetBytes(new DicomTag(0x0029, 0x1010), DicomVR.OB, new byte[privateBytes]);
        using var buffer = new MemoryStream();
        file.Save(buffer);
        return buffer.ToArray();
    }

    private Task Put(string key, byte[] bytes) => _store.PutBytesAsync("incoming", key, bytes);

    [Fact]
    public async Task A_dropped_series_becomes_one_job_ordered_by_slice_position_once_quiet_and_a_bad_file_fails_alone()
    {
        await Put("study/ser/c.dcm", Slice(1, 20.0));
        await Put("study/ser/a.dcm", Slice(2, -5.0));
        await Put("study/ser/b.dcm", Slice(3, 7.5));
        await Put("study/ser/readme.txt", Encoding.UTF8.GetBytes("not dicom"));
        var processor = NewProcessor();

        await processor.ReconcileAsync("", default);
        Assert.Equal(0, await processor.PublishDueAsync(default));
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await processor.PublishDueAsync(default));

        var job = _harness.Published.Select<DenoiseSeries>().Single().Context.Message;
        Assert.Equal(["study/ser/a.dcm", "study/ser/b.dcm", "study/ser/c.dcm"], job.Instances.Select(i => i.Key));
        Assert.Equal((Study, Series, "MR", "cdae/1", 1), (job.StudyInstanceUid, job.SeriesInstanceUid, job.Modality, job.ModelVersion, job.Revision));

        var failed = _harness.Published.Select<InstanceFailed>().Single().Context.Message;
        Assert.Equal("study/ser/readme.txt", failed.Source.Key);
        var record = JsonSerializer.Deserialize<FailureRecord>(await _store.GetBytesAsync("denoised", failed.FailureRecord.Key))!;
        Assert.Equal(PipelineStage.Ingest, record.Stage);
        Assert.Contains("not a readable DICOM instance", record.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_series_of_a_study_is_published_in_that_study_s_one_trace()
    {
        var traces = new List<(string Series, ActivityTraceId Trace)>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Pipeline.Ingest" or "MassTransit", // MassTransit writes traceparent when its publish span is recorded
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if (a.OperationName == "ingest.series-complete") traces.Add(((string)a.GetTagItem("pipeline.series")!, a.TraceId));
            },
        };
        ActivitySource.AddActivityListener(listener);
        await Put("one/s1/1.dcm", Slice(1, 0, series: Series));
        await Put("one/s2/1.dcm", Slice(1, 0, series: Series + ".2"));
        await Put("two/s1/1.dcm", Slice(1, 0, series: Series + ".3", study: Study + ".7"));
        var processor = NewProcessor();

        await processor.ReconcileAsync("", default);
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(3, await processor.PublishDueAsync(default));

        var bySeries = traces.ToDictionary(t => t.Series, t => t.Trace);
        Assert.Equal(bySeries[Series], bySeries[Series + ".2"]);
        Assert.NotEqual(bySeries[Series], bySeries[Series + ".3"]);
        var job = _harness.Published.Select<DenoiseSeries>().First(p => p.Context.Message.SeriesInstanceUid == Series).Context;
        // The job carries the trace on: MassTransit's W3C traceparent header (MT-Activity-Id) names the study's trace.
        Assert.True(job.Headers.TryGetHeader("MT-Activity-Id", out var traceparent), "no trace context on the job");
        Assert.Contains(bySeries[Series].ToHexString(), traceparent!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listing_the_bucket_again_publishes_nothing_new()
    {
        await Put("s/1.dcm", Slice(1, 0));
        var processor = NewProcessor();
        await processor.ReconcileAsync("", default);
        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(1, await processor.PublishDueAsync(default));

        await processor.ReconcileAsync("", default);
        _clock.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(0, await processor.PublishDueAsync(default));
    }

    [Fact]
    public async Task A_header_is_read_once_however_often_events_and_listings_meet_the_same_object()
    {
        await Put("s/1.dcm", Slice(1, 0));
        await Put("s/2.dcm", Slice(2, 1));
        var reads = new ReadCountingStore(_store);
        var processor = NewProcessor(reads);
        var first = new ObjectRef("incoming", "s/1.dcm");
        await processor.ObserveAsync(first, (await _store.StatAsync("incoming", "s/1.dcm")).ETag, null, default); // its bucket event
        Assert.Equal(1, reads.Reads("s/1.dcm"));

        await processor.ReconcileAsync("", default);
        await processor.ReconcileAsync("", default);

        Assert.Equal((1, 1), (reads.Reads("s/1.dcm"), reads.Reads("s/2.dcm")));
        await Put("s/2.dcm", Slice(2, 2)); // re-uploaded: a new ETag is a new object
        await processor.ReconcileAsync("", default);
        Assert.Equal((1, 2), (reads.Reads("s/1.dcm"), reads.Reads("s/2.dcm")));
    }

    [Fact]
    public async Task Headers_of_a_listing_are_read_several_at_a_time_and_the_series_keeps_its_slice_order()
    {
        _options.HeaderReadConcurrency = 4;
        for (var i = 1; i <= 6; i++) await Put($"s/{i}.dcm", Slice(i, -i)); // positions descend as the keys ascend
        var reads = new ReadCountingStore(_store, holdUntilInFlight: 4);
        var processor = NewProcessor(reads);

        await processor.ReconcileAsync("", default);
        _clock.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(4, reads.MostAtOnce);
        Assert.Equal(1, await processor.PublishDueAsync(default));
        var job = _harness.Published.Select<DenoiseSeries>().Single().Context.Message;
        Assert.Equal(["s/6.dcm", "s/5.dcm", "s/4.dcm", "s/3.dcm", "s/2.dcm", "s/1.dcm"], job.Instances.Select(o => o.Key));
    }

    [Fact]
    public async Task Objects_past_the_limits_fail_alone_at_ingest_and_one_past_the_object_size_limit_is_never_read()
    {
        // Requirement: the object-size limit is applied to the listed size before any read, the image limits to the
        // header; each refusal is the object's failure record naming the limit, and the rest of the series goes on.
        Limits.MaxObjectBytes = 4096;
        Limits.MaxFrames = 10;
        await Put("study/ser/a.dcm", Slice(1, 0));
        await Put("study/ser/large.dcm", Slice(2, 1, privateBytes: 8192));
        var frames = DicomFile.Open(Slice(3, 2));
        frames.Dataset.SetString(DicomTags.NumberOfFrames, "11");
        using (var buffer = new MemoryStream())
        {
            frames.Save(buffer);
            await Put("study/ser/frames.dcm", buffer.ToArray());
        }
        var store = new ReadCountingStore(_store);
        var processor = NewProcessor(store);

        await processor.ReconcileAsync("", default);
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await processor.PublishDueAsync(default));

        Assert.Equal(["study/ser/a.dcm"], _harness.Published.Select<DenoiseSeries>().Single().Context.Message.Instances.Select(i => i.Key));
        Assert.Contains("(MaxObjectBytes)", (await RecordOf("study/ser/large.dcm")).Reason, StringComparison.Ordinal);
        Assert.Equal(0, store.Reads("study/ser/large.dcm"));
        Assert.Contains("11 frames exceed the limit of 10 frames per object (MaxFrames)", (await RecordOf("study/ser/frames.dcm")).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_object_past_the_object_size_limit_whose_event_gave_no_size_fails_alone_without_being_buffered()
    {
        // Requirement: without a listed size, the read itself stops at the object-size limit and the object fails alone.
        Limits.MaxObjectBytes = 4096;
        await Put("study/ser/large.dcm", Slice(2, 1, privateBytes: 8192));
        var processor = NewProcessor(_store);

        await processor.ObserveAsync(new ObjectRef("incoming", "study/ser/large.dcm"), etag: null, size: null, default);

        Assert.Contains("the object is larger than the object-size limit of 4096 bytes (MaxObjectBytes)",
            (await RecordOf("study/ser/large.dcm")).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_series_past_the_pixels_per_series_limit_gets_no_job_and_each_instance_a_record_naming_the_limit()
    {
        // Requirement: a job holds one worker; a series with more pixels than the limit is refused whole at ingest, each
        // instance with a record, while a series of the same study within the limit is published.
        Limits.MaxPixelsPerSeries = 40; // the slices are 4x4: two fit, three do not
        await Put("study/big/1.dcm", Slice(1, 0));
        await Put("study/big/2.dcm", Slice(2, 1));
        await Put("study/big/3.dcm", Slice(3, 2));
        await Put("study/small/1.dcm", Slice(1, 0, series: Series + ".5"));
        await Put("study/small/2.dcm", Slice(2, 1, series: Series + ".5"));
        var processor = NewProcessor();

        await processor.ReconcileAsync("", default);
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await processor.PublishDueAsync(default));

        Assert.Equal(Series + ".5", _harness.Published.Select<DenoiseSeries>().Single().Context.Message.SeriesInstanceUid);
        foreach (var key in new[] { "study/big/1.dcm", "study/big/2.dcm", "study/big/3.dcm" })
            Assert.Equal("its series has 48 pixels in 3 instances, over Limits:MaxPixelsPerSeries (40)", (await RecordOf(key)).Reason);
        var refused = _harness.Published.Select<SeriesNotDenoisable>().Single().Context.Message;
        Assert.Equal((Series, "failures/ingest/incoming/study/big/1.dcm.json"), (refused.SeriesInstanceUid, refused.FailureRecord.Key));
    }

    [Fact]
    public async Task An_instance_that_would_open_one_series_too_many_in_its_study_fails_alone_and_the_others_go_on()
    {
        // Requirement: a flood of distinct Series Instance UIDs in one study does not become as many jobs: past the
        // limit each such instance has a record naming it; instances of series already open are still taken.
        Limits.MaxSeriesPerStudy = 2;
        await Put("study/a/1.dcm", Slice(1, 0, series: Series + ".1"));
        await Put("study/b/1.dcm", Slice(1, 0, series: Series + ".2"));
        await Put("study/c/1.dcm", Slice(1, 0, series: Series + ".3"));
        await Put("study/d/1.dcm", Slice(1, 0, series: Series + ".4"));
        await Put("study/e/2.dcm", Slice(2, 1, series: Series + ".2"));
        await Put("other/a/1.dcm", Slice(1, 0, series: Series + ".9", study: Study + ".7"));
        var processor = NewProcessor();

        await processor.ReconcileAsync("", default);
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(3, await processor.PublishDueAsync(default));

        var jobs = _harness.Published.Select<DenoiseSeries>().Select(j => j.Context.Message).ToList();
        Assert.Equal([Series + ".1", Series + ".2", Series + ".9"], jobs.Select(j => j.SeriesInstanceUid).Order(StringComparer.Ordinal));
        Assert.Equal(2, jobs.Single(j => j.SeriesInstanceUid == Series + ".2").Instances.Count);
        Assert.Equal($"its study already has 2 series, the most Limits:MaxSeriesPerStudy allows; series {Series}.3 is not taken",
            (await RecordOf("study/c/1.dcm")).Reason);
        Assert.Contains("Limits:MaxSeriesPerStudy", (await RecordOf("study/d/1.dcm")).Reason, StringComparison.Ordinal);
    }

    /// <summary>
    /// Counts reads per key and the most in flight at once; everything else goes to the inner store. With
    /// <c>holdUntilInFlight</c>, reads wait until that many are in flight together (so overlap does not depend on timing);
    /// a reader that never starts that many is let go after a while and shows up in <see cref="MostAtOnce"/>.
    /// </summary>
    private sealed class ReadCountingStore(IObjectStore inner, int holdUntilInFlight = 0) : IObjectStore
    {
        private readonly Dictionary<string, int> _reads = [];
        private readonly TaskCompletionSource _enoughInFlight = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _inFlight;

        public int MostAtOnce { get; private set; }

        public int Reads(string key)
        {
            lock (_reads) return _reads.GetValueOrDefault(key);
        }

        public async Task<Stream> OpenReadAsync(string bucket, string key, ByteRange? range = null, CancellationToken cancellationToken = default)
        {
            lock (_reads)
            {
                _reads[key] = _reads.GetValueOrDefault(key) + 1;
                MostAtOnce = Math.Max(MostAtOnce, ++_inFlight);
                if (MostAtOnce >= holdUntilInFlight) _enoughInFlight.TrySetResult();
            }
            try
            {
                await Task.WhenAny(_enoughInFlight.Task, Task.Delay(TimeSpan.FromSeconds(20), cancellationToken));
                _enoughInFlight.TrySetResult(); // let every later read go too
                return await inner.OpenReadAsync(bucket, key, range, cancellationToken);
            }
            finally
            {
                lock (_reads) _inFlight--;
            }
        }

        public Task EnsureBucketAsync(string bucket, CancellationToken cancellationToken = default) => inner.EnsureBucketAsync(bucket, cancellationToken);
        public Task PutAsync(string bucket, string key, Stream content, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default) =>
            inner.PutAsync(bucket, key, content, options, cancellationToken);
        public Task<ObjectInfo?> TryStatAsync(string bucket, string key, CancellationToken cancellationToken = default) => inner.TryStatAsync(bucket, key, cancellationToken);
        public IAsyncEnumerable<ListedObject> ListAsync(string bucket, string prefix = "", CancellationToken cancellationToken = default) => inner.ListAsync(bucket, prefix, cancellationToken);
        public Task DeleteAsync(string bucket, string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(bucket, key, cancellationToken);
        public Task CopyAsync(string sourceBucket, string sourceKey, string destinationBucket, string destinationKey, CancellationToken cancellationToken = default) =>
            inner.CopyAsync(sourceBucket, sourceKey, destinationBucket, destinationKey, cancellationToken);
    }

    [Fact]
    public async Task A_series_already_completed_for_this_model_version_is_skipped_after_a_restart_unless_it_changed()
    {
        await Put("s/1.dcm", Slice(1, 0));
        var first = NewProcessor();
        await first.ReconcileAsync("", default);
        _clock.Advance(TimeSpan.FromMinutes(2));
        await first.PublishDueAsync(default);
        var job = _harness.Published.Select<DenoiseSeries>().Single().Context.Message;
        var marker = new SeriesCompletion(Study, Series, "2.25.1", "cdae/1", job.Revision, job.SourceFingerprint, [], [], _clock.GetUtcNow(), new Dictionary<string, double>());
        await _store.PutBytesAsync("denoised", BucketLayout.CompletionMarker(Study, Series, "cdae/1"), JsonSerializer.SerializeToUtf8Bytes(marker));

        var restarted = NewProcessor(); // a new process: no memory of the first run
        await restarted.ReconcileAsync("", default);
        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(0, await restarted.PublishDueAsync(default));

        await Put("s/2.dcm", Slice(2, 1)); // arrived while ingest was down
        var again = NewProcessor();
        await again.ReconcileAsync("", default);
        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(1, await again.PublishDueAsync(default));
        var redo = _harness.Published.Select<DenoiseSeries>().Last().Context.Message;
        Assert.Equal(2, redo.Revision);
        Assert.Equal(2, redo.Instances.Count);
    }

    [Fact]
    public async Task A_manifest_listing_the_instances_completes_the_series_without_waiting_and_sets_the_priority()
    {
        await Put("urgent-study/1.dcm", Slice(1, 0));
        await Put("urgent-study/2.dcm", Slice(2, 1));
        var processor = NewProcessor();
        await processor.ReconcileAsync("", default);
        Assert.Equal(0, await processor.PublishDueAsync(default));

        await Put("urgent-study/_manifest.json", Encoding.UTF8.GetBytes("""{"instances":["1.dcm","2.dcm"],"priority":"urgent"}"""));
        await processor.ObserveAsync(new ObjectRef("incoming", "urgent-study/_manifest.json"), "m1", null, default);

        Assert.Equal(1, await processor.PublishDueAsync(default)); // no clock advance
        var job = _harness.Published.Select<DenoiseSeries>().Single().Context.Message;
        Assert.Equal(JobPriority.Urgent, job.Priority);
    }

    [Fact]
    public async Task A_header_longer_than_the_first_range_read_is_read_from_the_whole_object()
    {
        _options.HeaderReadBytes = 1024;
        await Put("s/big-header.dcm", Slice(1, 0, privateBytes: 4000));
        var processor = NewProcessor();

        await processor.ReconcileAsync("", default);
        _clock.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(1, await processor.PublishDueAsync(default));
        Assert.Empty(_harness.Published.Select<InstanceFailed>());
    }

    [Fact]
    public async Task A_series_of_colour_images_is_reported_as_not_denoisable_with_the_reason()
    {
        var file = DicomFile.Open(Slice(1, 0));
        file.Dataset.SetNumber(DicomTags.SamplesPerPixel, 3).SetString(DicomTags.PhotometricInterpretation, "RGB");
        using var buffer = new MemoryStream();
        file.Save(buffer);
        await Put("colour/1.dcm", buffer.ToArray());
        var processor = NewProcessor();

        await processor.ReconcileAsync("", default);
        _clock.Advance(TimeSpan.FromMinutes(2));
        await processor.PublishDueAsync(default);

        var report = _harness.Published.Select<SeriesNotDenoisable>().Single().Context.Message;
        Assert.Contains("colour image (3 samples per pixel, RGB)", report.Reason, StringComparison.Ordinal);
        Assert.Empty(_harness.Published.Select<DenoiseSeries>());
        Assert.True(await _store.ExistsAsync("denoised", report.FailureRecord.Key));
    }

    /// <summary>
    /// Identifiers are untrusted input: an instance whose Study, Series or SOP Instance UID is not a valid UID (PS3.5 9.1)
    /// fails alone with a record naming the attribute, and the good series beside it is still published (a UID such as
    /// '../../outside' used to reach an output key and throw on every pass of the loop, so nothing was ever published).
    /// </summary>
    [Fact]
    public async Task An_instance_with_an_invalid_uid_fails_alone_and_the_series_beside_it_is_published()
    {
        await Put("study/ser/1.dcm", Slice(1, 0));
        await Put("study/ser/2.dcm", Slice(2, 1));
        await Put("study/bad/traversal.dcm", Slice(1, 0, series: "../../outside"));
        await Put("study/bad/control.dcm", WithUid(Slice(3, 2), DicomTags.StudyInstanceUID, "1.2.826\u0001.1"));
        await Put("study/bad/long.dcm", WithUid(Slice(4, 3), DicomTags.SOPInstanceUID, "1." + new string('3', 63)));
        await Put("study/bad/zero.dcm", WithUid(Slice(5, 4), DicomTags.SeriesInstanceUID, "1.2.826.0.01"));
        var processor = NewProcessor();

        await processor.ReconcileAsync("", default);
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await processor.PublishDueAsync(default));

        var job = _harness.Published.Select<DenoiseSeries>().Single().Context.Message;
        Assert.Equal(["study/ser/1.dcm", "study/ser/2.dcm"], job.Instances.Select(i => i.Key));
        foreach (var (key, attribute) in new[]
        {
            ("study/bad/traversal.dcm", "Series Instance UID"), ("study/bad/control.dcm", "Study Instance UID"),
            ("study/bad/long.dcm", "SOP Instance UID"), ("study/bad/zero.dcm", "Series Instance UID"),
        })
        {
            var record = await RecordOf(key);
            Assert.Contains($"{attribute} is not a valid UID: ", record.Reason, StringComparison.Ordinal);
            Assert.DoesNotContain(record.Reason, char.IsControl);
        }
    }

    /// <summary>
    /// Two objects of a series with one SOP Instance UID would write one output key (the last writer wins): the first in key
    /// order is kept whatever order they arrive in, the other fails alone with a record naming the UID and the kept object,
    /// and the log names objects by ObjectId only (keys may hold patient names).
    /// </summary>
    [Fact]
    public async Task Of_two_instances_with_one_sop_instance_uid_the_first_in_key_order_is_kept_and_the_other_fails_alone()
    {
        await Put("s/a.dcm", Slice(1, 0));
        await Put("s/b.dcm", Slice(1, 5)); // same SOP Instance UID, different object
        await Put("s/c.dcm", Slice(2, 1));
        var logger = new FakeLogger<IngestProcessor>();
        var processor = NewProcessor(logger: logger);
        foreach (var key in new[] { "s/b.dcm", "s/c.dcm", "s/a.dcm" }) // the duplicate arrives first
            await processor.ObserveAsync(new ObjectRef("incoming", key), (await _store.StatAsync("incoming", key)).ETag, null, default);

        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await processor.PublishDueAsync(default));

        var job = _harness.Published.Select<DenoiseSeries>().Single().Context.Message;
        Assert.Equal(["s/a.dcm", "s/c.dcm"], job.Instances.Select(i => i.Key));
        var record = await RecordOf("s/b.dcm");
        Assert.Equal("DuplicateSopInstanceUid", record.ErrorType);
        Assert.Contains($"duplicate SOP Instance UID {Series}.1", record.Reason, StringComparison.Ordinal);
        Assert.Contains("s/a.dcm", record.Reason, StringComparison.Ordinal);
        Assert.Equal(Series, record.SeriesInstanceUid);
        var logged = Assert.Single(logger.Collector.GetSnapshot(), l => l.Message.Contains("duplicate", StringComparison.Ordinal)).Message;
        Assert.DoesNotContain("s/a.dcm", logged, StringComparison.Ordinal);
        Assert.DoesNotContain("s/b.dcm", logged, StringComparison.Ordinal);
    }

    /// <summary>
    /// A key the stores refuse to read (here a local file named with a backslash; on S3 also 'a//b' or a control character)
    /// is skipped, and the rest of the listing goes on: reading it used to throw out of the listing on every pass.
    /// </summary>
    [Fact]
    public async Task An_object_whose_key_cannot_be_read_is_skipped_and_the_rest_of_the_listing_goes_on()
    {
        await Put("s/1.dcm", Slice(1, 0));
        await File.WriteAllBytesAsync(Path.Combine(_root, "incoming", "s", "windows\\name.dcm"), Slice(2, 1));
        await Put("s/3.dcm", Slice(3, 2));
        var processor = NewProcessor();

        await processor.ReconcileAsync("", default);
        _clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(1, await processor.PublishDueAsync(default));
        Assert.Equal(["s/1.dcm", "s/3.dcm"], _harness.Published.Select<DenoiseSeries>().Single().Context.Message.Instances.Select(i => i.Key));
    }

    /// <summary>A marker deleted between its event (or the listing) and its read is one object gone, not an error for its batch.</summary>
    [Fact]
    public async Task A_marker_deleted_before_it_is_read_is_ignored()
    {
        await Put("s/1.dcm", Slice(1, 0));
        var processor = NewProcessor();

        await processor.ObserveAllAsync([new(new ObjectRef("incoming", "s/_manifest.json"), 10, "m1"), new(new ObjectRef("incoming", "s/1.dcm"), null, null)], default);
        _clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(1, await processor.PublishDueAsync(default));
    }

    /// <summary>A manifest's priority is one of the named ones; a number parses as an enum value but is not a priority.</summary>
    [Fact]
    public async Task A_manifest_priority_that_is_a_number_is_ignored()
    {
        await Put("m/1.dcm", Slice(1, 0));
        await Put("m/_manifest.json", Encoding.UTF8.GetBytes("""{"priority":"7"}"""));
        var processor = NewProcessor();

        await processor.ReconcileAsync("", default);

        Assert.Equal(1, await processor.PublishDueAsync(default));
        Assert.Equal(JobPriority.Normal, _harness.Published.Select<DenoiseSeries>().Single().Context.Message.Priority);
    }

    /// <summary>Publishes one series' job and returns it (the broker of these tests keeps it; the tests play a lost one).</summary>
    private async Task<DenoiseSeries> PublishOneJobAsync(IngestProcessor processor)
    {
        await Put("s/1.dcm", Slice(1, 0));
        await Put("s/2.dcm", Slice(2, 1));
        await processor.ReconcileAsync("", default);
        _clock.Advance(_options.QuietPeriod);
        Assert.Equal(1, await processor.PublishDueAsync(default));
        return _harness.Published.Select<DenoiseSeries>().Single().Context.Message;
    }

    private Task WriteMarkerAsync(DenoiseSeries job, int revision, string? fingerprint) =>
        _store.PutBytesAsync("denoised", BucketLayout.CompletionMarker(job.StudyInstanceUid, job.SeriesInstanceUid, job.ModelVersion),
            JsonSerializer.SerializeToUtf8Bytes(new SeriesCompletion(job.StudyInstanceUid, job.SeriesInstanceUid, "2.25.1", job.ModelVersion, revision,
                fingerprint, [], [], _clock.GetUtcNow(), new Dictionary<string, double>()), ContractJson.Options));

    /// <summary>
    /// A broker that loses its queues loses the jobs in them, and nothing else would ever publish them again: a job still
    /// without its completion marker a job deadline after it was sent is published again, unchanged (same revision and
    /// fingerprint, so a job that was only slow is acknowledged without work), with a log event and a counter; not before.
    /// </summary>
    [Fact]
    public async Task A_job_whose_marker_never_appears_is_published_again_unchanged_after_the_job_deadline_and_not_before()
    {
        var logger = new FakeLogger<IngestProcessor>();
        using var republished = new MetricCollector<long>(null, "Pipeline.Ingest", "pipeline.ingest.jobs_republished");
        var processor = NewProcessor(logger: logger);
        var job = await PublishOneJobAsync(processor);

        _clock.Advance(_options.JobDeadline - TimeSpan.FromSeconds(1));
        Assert.Equal(0, await processor.RepublishOverdueAsync(default));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await processor.RepublishOverdueAsync(default));

        var jobs = _harness.Published.Select<DenoiseSeries>().Select(p => p.Context.Message).ToList();
        Assert.Equal(2, jobs.Count);
        Assert.Equal((job.Revision, job.SourceFingerprint, job.ModelVersion, job.Priority), (jobs[1].Revision, jobs[1].SourceFingerprint, jobs[1].ModelVersion, jobs[1].Priority));
        Assert.Equal(job.Instances, jobs[1].Instances);
        Assert.Equal(1, republished.LastMeasurement?.Value);
        Assert.Single(logger.Collector.GetSnapshot(), l => l.Id.Id == 1006 && l.Message.Contains(job.SeriesInstanceUid, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_modality_outside_the_standard_s_defined_terms_is_counted_as_other()
    {
        // Requirement: metric labels come from a bounded set; a header's Modality is untrusted text.
        using var read = new MetricCollector<long>(null, "Pipeline.Ingest", "pipeline.ingest.instances");
        var odd = DicomFile.Open(Slice(2, 1));
        odd.Dataset.SetString(DicomTags.Modality, "X" + Guid.NewGuid().ToString("N")[..8]);
        using (var buffer = new MemoryStream())
        {
            odd.Save(buffer);
            await Put("study/ser/odd.dcm", buffer.ToArray());
        }
        await Put("study/ser/mr.dcm", Slice(1, 0));

        await NewProcessor().ReconcileAsync("", default);

        Assert.Equal(["MR", "other"], read.GetMeasurementSnapshot().Select(m => (string)m.Tags["modality"]!).Order(StringComparer.Ordinal));
    }

    /// <summary>A republish costs duplicate work, so it is bounded: a job is published again at most once per job deadline.</summary>
    [Fact]
    public async Task A_job_still_without_a_marker_is_published_again_at_most_once_per_job_deadline()
    {
        var processor = NewProcessor();
        await PublishOneJobAsync(processor);
        _clock.Advance(_options.JobDeadline);
        Assert.Equal(1, await processor.RepublishOverdueAsync(default));

        Assert.Equal(0, await processor.RepublishOverdueAsync(default)); // the next reconcile, at once
        _clock.Advance(_options.JobDeadline - TimeSpan.FromSeconds(1));
        Assert.Equal(0, await processor.RepublishOverdueAsync(default));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await processor.RepublishOverdueAsync(default));
        Assert.Equal(3, _harness.Published.Select<DenoiseSeries>().Count());
    }

    /// <summary>
    /// A series whose marker covers its job (same revision and fingerprint, or a newer revision) is done: it is never
    /// published again, however long ago its job went out. A marker of an older revision does not cover it.
    /// </summary>
    [Fact]
    public async Task A_job_whose_marker_covers_it_is_not_published_again()
    {
        var processor = NewProcessor();
        var job = await PublishOneJobAsync(processor);
        await WriteMarkerAsync(job, job.Revision - 1, "an older instance set");
        _clock.Advance(_options.JobDeadline);
        Assert.Equal(1, await processor.RepublishOverdueAsync(default));

        await WriteMarkerAsync(job, job.Revision, job.SourceFingerprint);
        for (var i = 0; i < 3; i++)
        {
            _clock.Advance(_options.JobDeadline);
            Assert.Equal(0, await processor.RepublishOverdueAsync(default));
        }
        Assert.Equal(2, _harness.Published.Select<DenoiseSeries>().Count());
    }
}
