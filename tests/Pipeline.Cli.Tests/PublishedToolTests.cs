namespace Pipeline.Cli.Tests;

/// <summary>
/// The tool as a user installs it: `dotnet publish services/Pipeline.Cli -c Release -o DIR`, then `DIR/pipeline` run from
/// another working directory, with no repository and no build output beside it.
/// </summary>
public sealed class PublishedToolTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_published_tool_runs_the_sample_study_and_its_verbs_from_another_working_directory()
    {
        var tool = Path.Combine(_dir.Path, "tool");
        var project = Path.Combine(Path.GetDirectoryName(SampleData.DataFolder)!, "..", "services", "Pipeline.Cli");
        var publish = Run(_dir.Path, Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", TimeSpan.FromMinutes(10),
            "publish", project, "-c", "Release", "-o", tool);
        Assert.True(publish.ExitCode == 0, $"dotnet publish failed:\n{publish.Output}");
        // The services' own appsettings.json would collide here, and whichever came last would configure the embedded services.
        Assert.False(File.Exists(Path.Combine(tool, "appsettings.json")), "a service's appsettings.json was published with the tool");

        var elsewhere = Directory.CreateDirectory(Path.Combine(_dir.Path, "elsewhere")).FullName;
        var pipeline = Path.Combine(tool, "pipeline");
        var run = Run(elsewhere, pipeline, TimeSpan.FromMinutes(5), "run", "--out", "out");
        Assert.True(run.ExitCode == 0, $"pipeline run exited {run.ExitCode}:\n{run.Output}");
        Assert.Contains("1 series done, 0 failed objects, 0 input objects pending", run.Output);
        var output = Path.Combine(elsewhere, "out");
        var marker = Assert.Single(Directory.GetFiles(output, "complete.json", SearchOption.AllDirectories));
        Assert.Equal(16, Directory.GetFiles(Path.Combine(Path.GetDirectoryName(marker)!, "instances"), "*.dcm", SearchOption.AllDirectories).Length);
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(marker)!, "report.json")));

        // The other verbs find their data (dictionary, bundled model) next to the tool, not in the working directory.
        var derived = Directory.GetFiles(output, "*.dcm", SearchOption.AllDirectories)[0];
        var dump = Run(elsewhere, pipeline, TimeSpan.FromMinutes(1), "dicom", "dump", derived);
        Assert.True(dump.ExitCode == 0, dump.Output);
        Assert.Contains("DERIVED", dump.Output);
        var noisy = Path.Combine(SampleData.SampleStudy, "t1-noisy");
        var denoise = Run(elsewhere, pipeline, TimeSpan.FromMinutes(2), "model", "denoise", noisy, "denoised");
        Assert.True(denoise.ExitCode == 0, denoise.Output);
        Assert.Equal(16, Directory.GetFiles(Path.Combine(elsewhere, "denoised"), "*.dcm", SearchOption.AllDirectories).Length);
        var metrics = Run(elsewhere, pipeline, TimeSpan.FromMinutes(1), "metrics", Path.Combine(SampleData.SampleStudy, "t1"), noisy);
        Assert.True(metrics.ExitCode == 0, metrics.Output);
        Assert.Contains("psnr", metrics.Output, StringComparison.OrdinalIgnoreCase);

        // The operator's verbs read the run's output bucket: its failures and its model registry.
        var failed = Run(elsewhere, pipeline, TimeSpan.FromMinutes(1), "jobs", "failed", "--out", "out");
        Assert.True(failed.ExitCode == 0, failed.Output);
        Assert.Contains("0 failed objects in 0 series", failed.Output);
        var models = Run(elsewhere, pipeline, TimeSpan.FromMinutes(1), "model", "list", "--out", "out", "--json");
        Assert.True(models.ExitCode == 0, models.Output);
        Assert.Contains("denoiser/1", models.Output);
        var shown = Run(elsewhere, pipeline, TimeSpan.FromMinutes(1), "model", "show", "denoiser/1", "--out", "out");
        Assert.True(shown.ExitCode == 0, shown.Output);
        Assert.Contains("current", shown.Output);
        var runs = Run(elsewhere, pipeline, TimeSpan.FromMinutes(1), "model", "runs", "--out", "out");
        Assert.True(runs.ExitCode == 0, runs.Output);
        Assert.Contains("0 training runs of denoiser", runs.Output);
        var trace = Run(elsewhere, pipeline, TimeSpan.FromMinutes(1), "trace", "1.2.840.10008.1");
        Assert.True(trace.ExitCode == 0, trace.Output);
        Assert.Matches("^[0-9a-f]{32}$", trace.Output.Trim());
    }

    private static (int ExitCode, string Output) Run(string workingDirectory, string fileName, TimeSpan timeout, params string[] args)
    {
        var (exitCode, stdout, stderr) = PipelineCli.Program(workingDirectory, fileName, timeout, args);
        return (exitCode, stdout + stderr);
    }
}
