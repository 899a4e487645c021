using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Benchmarks;

/// <summary>
/// CI's bounded slice of the throughput benchmark (services/Pipeline.DenoiseWorker/README.md): `pipeline --quick
/// --rounds 2` through the real broker and S3 server, both placements. It checks that the benchmark still runs and
/// reports what the README reads from it, not its figures: speed is judged by the full benchmark, not by a test.
/// </summary>
[Collection(TestServersCollection.Name)]
public sealed partial class PipelineBenchmarkSliceTests(ITestOutputHelper output)
{
    private const int Rounds = 2;
    private const int Slices = 3 * 16; // --quick: 3 series of 16 slices

    [Fact]
    public void Quick_benchmark_drops_the_backlog_through_both_placements_and_reports_a_ratio_for_every_round()
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var benchmark = ServiceProcess.BuiltAssembly("Pipeline.Benchmarks", folder: "tests");
        var run = ExternalTool.Run(TimeSpan.FromMinutes(8), dotnet, benchmark, "pipeline", "--quick", "--rounds", Rounds.ToString(CultureInfo.InvariantCulture));
        output.WriteLine(run.StdOut);
        output.WriteLine(run.StdErr);
        Assert.Equal(0, run.ExitCode);

        // One section per placement, in this order; each holds its rounds.
        var sections = Regex.Split(run.StdOut, @"^== ", RegexOptions.Multiline).Skip(1).ToList();
        Assert.Equal(2, sections.Count);
        Assert.StartsWith("co-located", sections[0], StringComparison.Ordinal);
        Assert.StartsWith("dedicated", sections[1], StringComparison.Ordinal);
        foreach (var section in sections)
        {
            // Every round finished the whole backlog (the run's slice count is the drop's, not a partial count).
            var runs = PipelineLine().Matches(section);
            Assert.Equal(Rounds, runs.Count);
            Assert.All(runs, m => Assert.Equal(Slices, int.Parse(m.Groups["slices"].Value, CultureInfo.InvariantCulture)));

            var ratios = RatioLine().Matches(section).Select(m => Number(m.Groups["ratio"].Value)).ToList();
            Assert.Equal(Rounds, ratios.Count);
            Assert.All(ratios, r => Assert.True(r > 0 && double.IsFinite(r), $"ratio {r}"));

            // The summary line lists the same ratios; with two rounds the median is their mean.
            var summary = SummaryLine().Match(section);
            Assert.True(summary.Success, "no 'ratio by round' line");
            Assert.Equal(ratios, summary.Groups["ratios"].Value.Split(' ').Select(Number));
            Assert.Equal(Math.Round(ratios.Average(), 2), Number(summary.Groups["median"].Value), 0.011);
        }
        // Only the dedicated placement pins the worker to a core, so only it reports that core's time and steal.
        Assert.DoesNotContain("hypervisor steal", sections[0], StringComparison.Ordinal);
        Assert.Equal(Rounds, Regex.Matches(sections[1], "hypervisor steal on the worker's core: [0-9.]+ s during the pipeline").Count);
    }

    private static double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^pipeline \(drop->marker\) [0-9.]+ slices/s \([0-9.]+ s for (?<slices>\d+) slices\)", RegexOptions.Multiline)]
    private static partial Regex PipelineLine();

    [GeneratedRegex(@"^ratio pipeline / bare inference: (?<ratio>[0-9.]+) ", RegexOptions.Multiline)]
    private static partial Regex RatioLine();

    [GeneratedRegex(@"^ratio by round: (?<ratios>[0-9. ]+); median (?<median>[0-9.]+),", RegexOptions.Multiline)]
    private static partial Regex SummaryLine();
}
