using System.Text.Json;
using Microsoft.Extensions.Logging;
using Pipeline.Contracts;
using Pipeline.Hosting;
using Pipeline.Imaging.Dicom;
using Pipeline.Storage;

namespace Pipeline.Evaluation;

/// <summary>The reference instance for one pair, or why there is none.</summary>
internal sealed record ReferencePartner(LoadedInstance? Reference, string? Problem);

/// <summary>
/// Reads the clean reference registered for a source series (<see cref="BucketLayout.Reference"/>), if any, and pairs it
/// with the readable sources by the product's one slice-matching rule. A broken registration is reported, never fatal.
/// </summary>
internal sealed partial class CleanReferenceMatcher(IObjectStore store, InstanceLoader loader, string outputBucket, ILogger logger)
{
    /// <summary>The registration's summary (null when none is registered) and the partner of each readable pair that has one.</summary>
    public async Task<(ReferenceSummary? Summary, Dictionary<LoadedPair, ReferencePartner> Partners)> MatchAsync(
        SeriesDenoised job, List<LoadedPair> readable, CancellationToken ct)
    {
        var partners = new Dictionary<LoadedPair, ReferencePartner>();
        var registration = new ObjectRef(outputBucket, BucketLayout.Reference(job.StudyInstanceUid, job.SourceSeriesInstanceUid));
        CleanReference? clean;
        try
        {
            clean = JsonSerializer.Deserialize<CleanReference>(
                await store.GetBytesAsync(registration.Bucket, registration.Key, cancellationToken: ct), ContractJson.Options);
        }
        catch (ObjectNotFoundException)
        {
            return (null, partners);
        }
        catch (JsonException e)
        {
            return (Problem(registration, $"registration is not valid JSON: {e.Message}", job), partners);
        }
        if (clean?.Instances is not { Count: > 0 })
            return (Problem(registration, "registration lists no instances", job), partners);

        var unreadable = new List<ObjectProblem>();
        var references = new List<LoadedInstance>();
        foreach (var obj in clean.Instances)
        {
            var (instance, problem) = await loader.LoadAsync(obj, ct);
            if (instance is null) unreadable.Add(new ObjectProblem(obj, problem!));
            else references.Add(instance);
        }
        if (references.Count == 0)
            return (Problem(registration, "no reference instance could be read", job) with { Unreadable = unreadable }, partners);

        SliceMatching matching;
        try
        {
            matching = SliceMatching.Match([.. readable.Select(p => p.Source!.Instance)], [.. references.Select(r => r.Instance)], "reference instances");
        }
        catch (InvalidDataException e)
        {
            return (Problem(registration, e.Message, job) with { Unreadable = unreadable }, partners);
        }
        var byInstance = references.ToDictionary(r => r.Instance);
        for (var i = 0; i < readable.Count; i++)
        {
            var match = matching.Matches[i];
            var reference = match.Partner is null ? null : byInstance[match.Partner];
            var problem = match.Problem ?? InstanceLoader.Mismatch(readable[i].Source!, reference!, "reference");
            partners[readable[i]] = new ReferencePartner(problem is null ? reference : null, problem);
        }
        return (new ReferenceSummary(registration, matching.MatchedBy, 0, null, unreadable), partners);
    }

    private ReferenceSummary Problem(ObjectRef registration, string problem, SeriesDenoised job)
    {
        LogReferenceProblem(logger, job.SourceSeriesInstanceUid, problem);
        return new ReferenceSummary(registration, null, 0, problem, []);
    }

    [LoggerMessage(3005, LogLevel.Warning, "Clean reference of series {SeriesUid} not used: {Problem}")]
    private static partial void LogReferenceProblem(ILogger logger, string seriesUid, string problem);
}
