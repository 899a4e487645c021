using Pipeline.Cli.Embedded;
using Pipeline.Contracts;

namespace Pipeline.Cli.Commands.Jobs;

/// <summary>The open failures of one series (study and series unknown for objects whose header could not be read).</summary>
internal sealed record SeriesFailures(string? StudyInstanceUid, string? SeriesInstanceUid, bool Done, IReadOnlyList<FailureState> Failures);

/// <summary>
/// The open failure records of the output bucket grouped by series, and the resolved ones (see <see cref="PipelineStatus"/>),
/// which stay as history until their retention lifetime ends.
/// </summary>
internal sealed record FailureReport(IReadOnlyList<SeriesFailures> Series, IReadOnlyList<FailureState> Resolved)
{
    public static FailureReport Of(PipelineStatus status)
    {
        var done = status.Done.Select(s => s.Marker.SeriesInstanceUid).ToHashSet();
        var open = status.Failures
            .GroupBy(f => (f.Record.StudyInstanceUid, f.Record.SeriesInstanceUid))
            .OrderBy(g => g.Key.StudyInstanceUid, StringComparer.Ordinal).ThenBy(g => g.Key.SeriesInstanceUid, StringComparer.Ordinal)
            .Select(g => new SeriesFailures(g.Key.StudyInstanceUid, g.Key.SeriesInstanceUid,
                g.Key.SeriesInstanceUid is { } uid && done.Contains(uid), [.. g.OrderBy(f => f.Key, StringComparer.Ordinal)]))
            .ToList();
        return new FailureReport(open, status.Resolved);
    }

    /// <summary>Whether any record, open or resolved, names <paramref name="seriesUid"/>.</summary>
    public bool Names(string seriesUid) =>
        Series.Any(s => s.SeriesInstanceUid == seriesUid) || Resolved.Any(f => f.Record.SeriesInstanceUid == seriesUid);
}
