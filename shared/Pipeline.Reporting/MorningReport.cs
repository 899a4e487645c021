using System.Globalization;
using System.Text;
using Pipeline.Contracts;
using Pipeline.Storage;
using static System.Net.WebUtility;

namespace Pipeline.Reporting;

/// <summary>What the report is about: a run or a batch, and when it started and finished.</summary>
/// <param name="Title">E.g. "pipeline run" or "batch nightly-2026-12-03".</param>
public sealed record ReportScope(string Title, DateTimeOffset Started, DateTimeOffset Finished);

/// <summary>
/// The morning report: one self-contained static HTML file (inline CSS and SVG charts, no script, no network) with the
/// counts, duration, throughput, failures with their reasons, quality figures per series with charts, and each series'
/// montage as a thumbnail linking to the full-size PNG beside it in the bucket (relative links, so it opens from the
/// bucket or a folder). Every string from the bucket is escaped: DICOM values and object keys are hostile input. It shows
/// UIDs, keys and figures only, never patient data.
/// </summary>
public static class MorningReport
{
    /// <summary>Charts draw at most this many series (the tables list all): a chart of thousands of bars says nothing.</summary>
    public const int ChartedSeries = 40;

    /// <summary>Writes the report of <paramref name="status"/> at <paramref name="key"/> of <paramref name="bucket"/>.</summary>
    public static async Task<ObjectRef> WriteAsync(IObjectStore store, string bucket, string key, ReportScope scope, PipelineStatus status, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        var html = Render(scope, status, key);
        await store.PutBytesAsync(bucket, key, Encoding.UTF8.GetBytes(html), new ObjectWriteOptions("text/html; charset=utf-8"), ct);
        return new ObjectRef(bucket, key);
    }

    /// <summary>The HTML of the report that will live at <paramref name="reportKey"/> (links to montages are relative to it).</summary>
    public static string Render(ReportScope scope, PipelineStatus status, string reportKey)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(status);
        var series = status.Done.OrderBy(s => s.Marker.StudyInstanceUid, StringComparer.Ordinal)
            .ThenBy(s => s.Marker.SeriesInstanceUid, StringComparer.Ordinal).ToList();
        var html = new StringBuilder();
        html.Append($"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>{HtmlEncode(scope.Title)}: morning report</title>
            <style>{Style}</style></head><body>
            <h1>{HtmlEncode(scope.Title)}</h1>
            """);
        Counts(html, scope, status, series);
        Failures(html, status.Failures);
        Quality(html, series);
        Montages(html, series, reportKey);
        html.Append("</body></html>\n");
        return html.ToString();
    }

    private const string Style = """
        body{font-family:system-ui,sans-serif;margin:24px;color:#222;background:#fff}
        h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}
        table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
        td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}
        dl.counts{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px}
        dl.counts div{border:1px solid #ddd;border-radius:6px;padding:8px}dl.counts dt{color:#666;font-size:.85em}
        dl.counts dd{margin:0;font-size:1.4em;font-weight:600}
        .failed{color:#a00}.uid{font-family:monospace;font-size:.85em;word-break:break-all}
        figure{display:inline-block;margin:6px;vertical-align:top}figure img{max-width:320px;border:1px solid #ccc}
        figcaption{font-size:.8em;max-width:320px}svg text{font-size:11px;font-family:sans-serif}
        """;

    private static void Counts(StringBuilder html, ReportScope scope, PipelineStatus status, List<SeriesState> series)
    {
        var seconds = Math.Max(0, (scope.Finished - scope.Started).TotalSeconds);
        var slices = series.Sum(s => s.Marker.Instances.Count);
        var studies = series.Select(s => s.Marker.StudyInstanceUid)
            .Concat(status.Failures.Select(f => f.Record.StudyInstanceUid).OfType<string>()).Distinct(StringComparer.Ordinal).Count();
        html.Append("<h2>Counts</h2><dl class=\"counts\">");
        Count(html, "studies", Int(studies));
        Count(html, "series done", Int(series.Count));
        Count(html, "slices denoised", Int(slices));
        Count(html, "failed objects", Int(status.Failures.Count), status.Failures.Count > 0 ? "failed" : null);
        Count(html, "pending objects", Int(status.Pending.Count));
        Count(html, "duration", Duration(seconds));
        Count(html, "throughput", seconds > 0 ? $"{Number(slices / seconds, "0.0")} slices/s" : "-");
        html.Append("</dl>");
        html.Append($"<p>started {Time(scope.Started)}, finished {Time(scope.Finished)}");
        if (status.Resolved.Count > 0)
            html.Append($"; {Int(status.Resolved.Count)} earlier failures resolved since (retried or uploaded again)");
        html.Append("</p>\n");
    }

    private static void Count(StringBuilder html, string name, string value, string? cssClass = null) =>
        html.Append($"<div{(cssClass is null ? "" : $" class=\"{cssClass}\"")}><dt>{name}</dt><dd>{HtmlEncode(value)}</dd></div>");

    private static void Failures(StringBuilder html, IReadOnlyList<FailureState> failures)
    {
        html.Append($"<h2 id=\"failures\">Failures ({Int(failures.Count)})</h2>");
        if (failures.Count == 0)
        {
            html.Append("<p>No object failed.</p>\n");
            return;
        }
        html.Append("<table class=\"failures\"><tr><th>stage</th><th>object</th><th>series</th><th>reason</th><th>attempts</th><th>when</th></tr>");
        foreach (var f in failures.OrderBy(f => f.Record.Stage).ThenBy(f => f.Record.Source.Key, StringComparer.Ordinal))
        {
            var r = f.Record;
            html.Append($"<tr><td>{HtmlEncode(r.Stage.ToString())}</td><td class=\"uid\">{HtmlEncode(r.Source.ToString())}</td>"
                + $"<td class=\"uid\">{HtmlEncode(r.SeriesInstanceUid ?? "-")}</td><td>{HtmlEncode(r.Reason)}</td>"
                + $"<td class=\"n\">{Int(r.Attempts)}</td><td>{Time(r.OccurredAt)}</td></tr>");
        }
        html.Append("</table>\n");
    }

    private static void Quality(StringBuilder html, List<SeriesState> series)
    {
        html.Append("<h2>Quality per series</h2>");
        if (series.Count == 0)
        {
            html.Append("<p>No series was denoised.</p>\n");
            return;
        }
        var withReference = series.Any(s => s.Report?.Series?.PsnrReferenceInput is not null);
        html.Append("<p>Noise: estimated noise standard deviation in modality units, before and after; fidelity: output against input");
        html.Append(withReference ? "; reference: input and output against the registered clean reference.</p>" : ".</p>");
        html.Append("<table class=\"quality\"><tr><th>study</th><th>series</th><th>model</th><th>modality</th><th>slices</th><th>failed</th>"
            + "<th>noise before</th><th>noise after</th><th>PSNR fidelity (dB)</th><th>SSIM fidelity</th>");
        if (withReference)
            html.Append("<th>PSNR ref. in → out (dB)</th><th>SSIM ref. in → out</th>");
        html.Append("</tr>");
        foreach (var s in series)
        {
            var (m, q) = (s.Marker, s.Report?.Series);
            html.Append($"<tr><td class=\"uid\">{HtmlEncode(m.StudyInstanceUid)}</td><td class=\"uid\">{HtmlEncode(m.SeriesInstanceUid)}</td>"
                + $"<td>{HtmlEncode(m.ModelVersion)}</td><td>{HtmlEncode(s.Report?.Modality ?? "-")}</td>"
                + $"<td class=\"n\">{Int(m.Instances.Count)}</td><td class=\"n\">{Int(m.FailedInstances.Count)}</td>");
            if (q is null)
                html.Append($"<td colspan=\"{(withReference ? 6 : 4)}\">not evaluated</td>");
            else
            {
                html.Append($"<td class=\"n\">{Number(q.NoiseSigmaInput)}</td><td class=\"n\">{Number(q.NoiseSigmaOutput)}</td>"
                    + $"<td class=\"n\">{Number(q.PsnrFidelity)}</td><td class=\"n\">{Number(q.SsimFidelity, "0.000")}</td>");
                if (withReference && q.PsnrReferenceInput is null)
                    html.Append("<td colspan=\"2\">no reference</td>");
                else if (withReference)
                    html.Append($"<td class=\"n\">{Number(q.PsnrReferenceInput)} → {Number(q.PsnrReferenceOutput)}</td>"
                        + $"<td class=\"n\">{Number(q.SsimReferenceInput, "0.000")} → {Number(q.SsimReferenceOutput, "0.000")}</td>");
            }
            html.Append("</tr>");
        }
        html.Append("</table>\n");

        var charted = series.Where(s => s.Report?.Series is not null).Take(ChartedSeries).ToList();
        if (charted.Count == 0) return;
        var evaluated = series.Count(s => s.Report?.Series is not null);
        if (evaluated > charted.Count)
            html.Append($"<p>Charts show the first {Int(charted.Count)} of {Int(evaluated)} evaluated series.</p>");
        var labels = charted.Select(s => ShortUid(s.Marker.SeriesInstanceUid)).ToList();
        var figures = charted.Select(s => s.Report!.Series!).ToList();
        html.Append(SvgBarChart.Grouped("Noise estimate before and after (modality units)", labels,
            [new("before", figures.Select(f => (double?)f.NoiseSigmaInput).ToList()), new("after", figures.Select(f => (double?)f.NoiseSigmaOutput).ToList())]));
        html.Append(SvgBarChart.Grouped("Fidelity: PSNR of output against input (dB)", labels,
            [new("PSNR fidelity", figures.Select(f => (double?)f.PsnrFidelity).ToList())]));
        if (withReference)
            html.Append(SvgBarChart.Grouped("PSNR against the clean reference (dB)", labels,
                [new("input", figures.Select(f => f.PsnrReferenceInput).ToList()), new("output", figures.Select(f => f.PsnrReferenceOutput).ToList())]));
        html.Append('\n');
    }

    private static void Montages(StringBuilder html, List<SeriesState> series, string reportKey)
    {
        var shown = series.Where(s => s.Report?.Montage is not null).ToList();
        html.Append("<h2>Montages</h2>");
        if (shown.Count == 0)
        {
            html.Append("<p>No montage was drawn.</p>\n");
            return;
        }
        html.Append("<p>Original | denoised | difference of a few slices per series; click for the full size.</p><div class=\"montages\">");
        foreach (var s in shown)
        {
            var href = HtmlEncode(RelativeLink(reportKey, s.Report!.Montage!.Image.Key));
            html.Append($"<figure><a href=\"{href}\"><img src=\"{href}\" alt=\"montage of series {HtmlEncode(s.Marker.SeriesInstanceUid)}\"></a>"
                + $"<figcaption class=\"uid\">{HtmlEncode(s.Marker.SeriesInstanceUid)}</figcaption></figure>");
        }
        html.Append("</div>\n");
    }

    /// <summary>
    /// A link from the object at <paramref name="fromKey"/> to the object at <paramref name="toKey"/> in the same bucket:
    /// "../" per folder of the first, then the second's segments percent-encoded (a key may hold '#', '?', '%' or quotes).
    /// </summary>
    public static string RelativeLink(string fromKey, string toKey)
    {
        ArgumentNullException.ThrowIfNull(fromKey);
        ArgumentNullException.ThrowIfNull(toKey);
        var up = string.Concat(Enumerable.Repeat("../", fromKey.Count(c => c == '/')));
        return up + string.Join('/', toKey.Split('/').Select(Uri.EscapeDataString));
    }

    /// <summary>UIDs are long; the last 12 characters tell series apart in a chart.</summary>
    private static string ShortUid(string uid) => uid.Length <= 16 ? uid : "…" + uid[^12..];

    private static string Int(int value) => value.ToString("N0", CultureInfo.InvariantCulture);

    internal static string Number(double? value, string format = "0.00") => value switch
    {
        null => "-",
        double.PositiveInfinity => "∞",
        { } v when double.IsNaN(v) => "-",
        { } v => v.ToString(format, CultureInfo.InvariantCulture),
    };

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    private static string Duration(double seconds) => seconds switch
    {
        < 60 => $"{Number(seconds, "0.0")} s",
        < 3600 => $"{(int)seconds / 60} min {(int)seconds % 60} s",
        _ => $"{(int)seconds / 3600} h {(int)seconds % 3600 / 60} min",
    };
}
