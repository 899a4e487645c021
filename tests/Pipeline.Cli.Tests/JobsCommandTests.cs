using System.Text.Json;

namespace Pipeline.Cli.Tests;

/// <summary>`pipeline jobs failed` and `pipeline jobs retry` over an embedded run's folders.</summary>
public sealed class JobsCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Objects_refused_by_a_limit_are_listed_with_their_reason_and_after_the_limit_is_raised_a_retry_completes_the_series_and_the_records_say_so()
    {
        // Requirement: failed work is listed with its reason; once the cause is fixed, a retry completes the series normally and
        // the failure records say they were retried (kept as resolved history); asking again has nothing to retry.
        var input = Path.Combine(_dir.Path, "in");
        var series = Path.Combine(input, "study", "t1");
        Directory.CreateDirectory(series);
        foreach (var file in Directory.GetFiles(Path.Combine(SampleData.SampleStudy, "t1-noisy")).Order().Take(4))
            File.Copy(file, Path.Combine(series, Path.GetFileName(file)));
        var output = Path.Combine(_dir.Path, "out");
        var tooSmall = new Dictionary<string, string> { ["Limits__MaxObjectBytes"] = "1000" };
        Assert.Equal(2, PipelineCli.Run(tooSmall, "run", input, "--out", output).ExitCode);

        var failed = PipelineCli.Run("jobs", "failed", "--out", output, "--json");
        Assert.True(failed.ExitCode == 0, failed.Stdout + failed.Stderr);
        var listing = JsonDocument.Parse(failed.Stdout).RootElement;
        var records = listing.GetProperty("Series").EnumerateArray().SelectMany(s => s.GetProperty("Failures").EnumerateArray()).ToList();
        Assert.Equal(4, records.Count);
        Assert.All(records, r => Assert.Contains("(MaxObjectBytes)", r.GetProperty("Record").GetProperty("Reason").GetString(), StringComparison.Ordinal));

        var retry = PipelineCli.Run("jobs", "retry", "--all", "--out", output, "--input", input);

        Assert.True(retry.ExitCode == 0, retry.Stdout + retry.Stderr);
        var marker = Assert.Single(Directory.GetFiles(output, "complete.json", SearchOption.AllDirectories));
        Assert.Equal(4, JsonDocument.Parse(File.ReadAllText(marker)).RootElement.GetProperty("Instances").GetArrayLength());
        var after = JsonDocument.Parse(PipelineCli.Run("jobs", "failed", "--out", output, "--json").Stdout).RootElement;
        Assert.Equal(0, after.GetProperty("Series").GetArrayLength());
        Assert.Equal(4, after.GetProperty("Resolved").GetInt32());
        foreach (var record in Directory.GetFiles(Path.Combine(output, "failures"), "*.json", SearchOption.AllDirectories))
            Assert.Equal(JsonValueKind.String, JsonDocument.Parse(File.ReadAllText(record)).RootElement.GetProperty("RetriedAt").ValueKind);

        var again = PipelineCli.Run("jobs", "retry", "--all", "--out", output, "--input", input);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("nothing to retry", again.Stdout + again.Stderr);
    }

    [Fact]
    public void Retry_names_an_unknown_series_and_refuses_missing_or_conflicting_arguments_in_one_line()
    {
        // Requirement: a retry that cannot do anything says why in one line and exits non-zero.
        var output = Path.Combine(_dir.Path, "out");
        var input = Path.Combine(_dir.Path, "in");
        Directory.CreateDirectory(output);
        Directory.CreateDirectory(input);

        var unknown = PipelineCli.Run("jobs", "retry", "1.2.3.4", "--out", output, "--input", input);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("unknown series 1.2.3.4", unknown.Stdout + unknown.Stderr);
        var both = PipelineCli.Run("jobs", "retry", "1.2.3.4", "--all", "--out", output, "--input", input);
        Assert.NotEqual(0, both.ExitCode);
        Assert.Contains("give a SERIES_UID or --all", both.Stdout + both.Stderr);
        var noInput = PipelineCli.Run("jobs", "retry", "--all", "--out", output);
        Assert.NotEqual(0, noInput.ExitCode);
        Assert.Contains("--input INPUT_DIR is required with --out", noInput.Stdout + noInput.Stderr);
    }
}
