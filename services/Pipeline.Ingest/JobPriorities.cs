using Pipeline.Contracts;
using Pipeline.Ingest.Series;

namespace Pipeline.Ingest;

/// <summary>
/// The priority of a series' job: urgent when its key starts with an urgent prefix, else the priority of the nearest
/// folder whose manifest named one, else the default.
/// </summary>
internal sealed class JobPriorities(IngestOptions options)
{
    private readonly Dictionary<string, JobPriority> _byFolder = new(StringComparer.Ordinal);

    /// <summary>A manifest in <paramref name="folder"/> asked for <paramref name="priority"/>.</summary>
    public void SetFolder(string folder, JobPriority priority) => _byFolder[folder] = priority;

    public JobPriority Of(CompleteSeries series)
    {
        var key = series.Instances[0].Object.Key;
        if (options.UrgentPrefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal))) return JobPriority.Urgent;
        var byManifest = _byFolder.Where(f => key.StartsWith(f.Key, StringComparison.Ordinal))
            .OrderByDescending(f => f.Key.Length).Select(f => (JobPriority?)f.Value).FirstOrDefault();
        return byManifest ?? options.DefaultPriority;
    }
}
