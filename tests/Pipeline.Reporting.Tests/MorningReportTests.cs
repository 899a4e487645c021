using Pipeline.Contracts;

namespace Pipeline.Reporting.Tests;

/// <summary>The morning report's HTML: every string from the bucket is escaped, links are relative to where the report lives.</summary>
public sealed class MorningReportTests : IDisposable
{
    private readonly ReportBucket _bucket = new();

    public void Dispose() => _bucket.Dispose();

    [Fact]
    public async Task Hostile_header_values_keys_and_reasons_appear_only_as_escaped_text()
    {
        var html = MorningReport.Render(new ReportScope("batch <i>night</i>", ReportBucket.Started, ReportBucket.Started.AddMinutes(1)),
            await _bucket.StatusAsync(), BucketLayout.RunReport);

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase); // the report itself runs no script
        Assert.DoesNotContain("<img src=x", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<i>night", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>.dcm", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(&#39;modality&#39;)&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.Contains("header says &lt;img src=x onerror=alert(1)&gt; &amp; &quot;quoted&quot;", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("report.html", "studies/1.2/series/3.4/models/denoiser/1/montage.png", "studies/1.2/series/3.4/models/denoiser/1/montage.png")]
    [InlineData("batches/night/report.html", "studies/a/montage.png", "../../studies/a/montage.png")]
    [InlineData("report.html", "studies/x #1?\"/m.png", "studies/x%20%231%3F%22/m.png")]
    public void A_link_to_another_object_is_relative_to_the_report_and_percent_encodes_each_segment(string from, string to, string expected) =>
        Assert.Equal(expected, MorningReport.RelativeLink(from, to));
}
