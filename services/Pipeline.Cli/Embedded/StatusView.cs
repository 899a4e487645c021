using System.Globalization;
using Spectre.Console;

namespace Pipeline.Cli.Embedded;

/// <summary>Prints a <see cref="PipelineStatus"/>: one row per series, then every failure with its reason.</summary>
internal static class StatusView
{
    public static void Write(PipelineStatus status, string? outputFolder)
    {
        var series = new Table().Title("series").AddColumns("study", "series", "model", "rev", "instances", "failed",
            "noise before", "noise after", "PSNR out vs in");
        foreach (var s in status.Done.OrderBy(s => s.Marker.StudyInstanceUid, StringComparer.Ordinal).ThenBy(s => s.Marker.SeriesInstanceUid, StringComparer.Ordinal))
        {
            var m = s.Marker;
            var figures = s.Report?.Series;
            series.AddRow(Short(m.StudyInstanceUid), Short(m.SeriesInstanceUid), m.ModelVersion, m.Revision.ToString(CultureInfo.InvariantCulture),
                m.Instances.Count.ToString(CultureInfo.InvariantCulture), m.FailedInstances.Count.ToString(CultureInfo.InvariantCulture),
                Number(figures?.NoiseSigmaInput), Number(figures?.NoiseSigmaOutput), figures is null ? "not evaluated" : $"{Number(figures.PsnrFidelity)} dB");
        }
        AnsiConsole.Write(series);
        foreach (var s in status.Done.Where(s => s.Report is not null))
            AnsiConsole.MarkupLineInterpolated($"report: [blue]{(outputFolder is null ? s.ReportKey : Path.Combine(outputFolder, s.ReportKey))}[/]");

        if (status.Failures.Count > 0)
        {
            var failures = new Table().Title("failed objects").AddColumns("stage", "object", "reason");
            foreach (var f in status.Failures.OrderBy(f => f.Record.Source.Key, StringComparer.Ordinal))
                failures.AddRow(f.Record.Stage.ToString(), Markup.Escape(f.Record.Source.ToString()), Markup.Escape(f.Record.Reason));
            AnsiConsole.Write(failures);
        }
        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{status.Done.Count} series done, {status.Failures.Count} failed objects, {status.Pending.Count} input objects pending"));
    }

    /// <summary>UIDs are long; the last 12 characters tell series apart on screen.</summary>
    private static string Short(string uid) => uid.Length <= 16 ? uid : "…" + uid[^12..];

    private static string Number(double? v) => v is { } x ? x.ToString("0.##", CultureInfo.InvariantCulture) : "-";
}
