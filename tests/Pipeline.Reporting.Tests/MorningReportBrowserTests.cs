using System.Text.Json;
using Pipeline.Contracts;

namespace Pipeline.Reporting.Tests;

/// <summary>
/// The morning report as a person sees it: rendered by Debian's headless Chromium from the bucket's folder (no server),
/// the numbers, the failure list with its reasons, the charts and the montage images are there, hostile strings show as
/// text, and no script error occurs. The screenshot is kept under artifacts/morning-report/.
/// </summary>
public sealed class MorningReportBrowserTests : IDisposable
{
    private readonly ReportBucket _bucket = new();

    public void Dispose() => _bucket.Dispose();

    /// <summary>
    /// Put first in the head of a copy of the report (beside it, so its relative links resolve the same): records script errors,
    /// and once everything loaded writes what is on the page into a &lt;pre id="seen"&gt; that --dump-dom shows.
    /// </summary>
    private const string Inspector = """
        <script>
        var errors = [];
        addEventListener('error', function (e) { errors.push(e.message || ('failed to load ' + (e.target.src || e.target.href))); }, true);
        addEventListener('load', function () {
          var text = function (e) { return e.textContent; };
          var seen = {
            title: text(document.querySelector('h1')),
            counts: Object.fromEntries([].map.call(document.querySelectorAll('dl.counts div'), function (d) { return [text(d.querySelector('dt')), text(d.querySelector('dd'))]; })),
            failures: [].map.call(document.querySelectorAll('table.failures tr'), function (r) { return [].map.call(r.cells, text); }).slice(1),
            modalities: [].map.call(document.querySelectorAll('table.quality tr'), function (r) { return r.cells[3] ? text(r.cells[3]) : ''; }).slice(1),
            images: [].map.call(document.images, function (i) { return i.naturalWidth; }),
            bars: document.querySelectorAll('svg rect.bar').length,
            scripts: document.scripts.length,
            errors: errors
          };
          var pre = document.createElement('pre');
          pre.id = 'seen';
          pre.textContent = JSON.stringify(seen);
          document.body.appendChild(pre);
        });
        </script>
        """;

    [Fact]
    public async Task Headless_chromium_shows_the_counts_the_failures_with_their_reasons_the_charts_and_every_montage_with_no_script_error()
    {
        var report = await MorningReport.WriteAsync(_bucket.Store, ReportBucket.Bucket, BucketLayout.RunReport,
            new ReportScope("batch <i>night</i>", ReportBucket.Started, ReportBucket.Started.AddMinutes(1)), await _bucket.StatusAsync(), CancellationToken.None);
        var path = Path.Combine(_bucket.Folder, report.Key);
        var inspected = Path.Combine(_bucket.Folder, "report.inspected.html");
        File.WriteAllText(inspected, File.ReadAllText(path).Replace("<head>", "<head>" + Inspector, StringComparison.Ordinal));

        var dom = Chromium("--dump-dom", new Uri(inspected).AbsoluteUri);
        var json = System.Text.RegularExpressions.Regex.Match(dom, "<pre id=\"seen\">(.*?)</pre>", System.Text.RegularExpressions.RegexOptions.Singleline);
        Assert.True(json.Success, "the page did not finish loading:\n" + dom[..Math.Min(dom.Length, 2000)]);
        var seen = JsonDocument.Parse(System.Net.WebUtility.HtmlDecode(json.Groups[1].Value)).RootElement;

        Assert.Empty(seen.GetProperty("errors").EnumerateArray());
        Assert.Equal(1, seen.GetProperty("scripts").GetInt32()); // the inspector's own: the report has none
        Assert.Equal("batch <i>night</i>", seen.GetProperty("title").GetString());
        var counts = seen.GetProperty("counts");
        Assert.Equal("2", counts.GetProperty("series done").GetString());
        Assert.Equal("6", counts.GetProperty("slices denoised").GetString());
        Assert.Equal("2", counts.GetProperty("failed objects").GetString());
        Assert.Equal("1 min 0 s", counts.GetProperty("duration").GetString());
        Assert.Equal("0.1 slices/s", counts.GetProperty("throughput").GetString());
        var failures = seen.GetProperty("failures").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetString()).ToList()).ToList();
        Assert.Equal(2, failures.Count);
        Assert.Contains(failures, f => f[1] == "incoming/" + ReportBucket.HostileKey && f[3] == ReportBucket.HostileReason);
        Assert.Contains(failures, f => f[2] == ReportBucket.HostileSeries && f[3] == "pixel data ends 512 bytes early");
        Assert.Contains(ReportBucket.HostileModality, seen.GetProperty("modalities").EnumerateArray().Select(m => m.GetString()));
        var images = seen.GetProperty("images").EnumerateArray().Select(i => i.GetInt32()).ToList();
        Assert.Equal(2, images.Count); // one montage per series, no image from a hostile string
        Assert.All(images, width => Assert.True(width > 0, "a montage did not load"));
        // noise before/after of both series, fidelity of one (the other's PSNR is infinite: no bar), reference input/output of one
        Assert.Equal(4 + 1 + 2, seen.GetProperty("bars").GetInt32());

        var screenshot = Path.Combine(Artifacts, "morning-report.png");
        File.Delete(screenshot);
        Chromium($"--screenshot={screenshot}", "--window-size=1280,1600", new Uri(path).AbsoluteUri);
        Assert.True(new FileInfo(screenshot).Length > 10_000, "no screenshot");
    }

    private static string Artifacts => Directory.CreateDirectory(Path.Combine(SampleData.DataFolder, "..", "..", "artifacts", "morning-report")).FullName;

    /// <summary>Debian's chromium (infra/apt-packages.txt) with the flags that work headless on a build machine.</summary>
    /// A page that opens a dialog (an injected alert()) never finishes: the timeout turns that into a failure.
    private static string Chromium(params string[] args)
    {
        var (exitCode, stdout, stderr) = ExternalTool.Run(TimeSpan.FromSeconds(30), "chromium",
            ["--headless=new", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files", "--virtual-time-budget=5000", .. args]);
        Assert.True(exitCode == 0, $"chromium exited {exitCode}: {stderr}");
        return stdout;
    }
}
