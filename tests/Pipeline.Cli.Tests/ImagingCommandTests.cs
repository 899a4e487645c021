using System.Text.Json;

namespace Pipeline.Cli.Tests;

/// <summary>The imaging verbs, run as the real `pipeline` executable on generated series.</summary>
public sealed class ImagingCommandTests : IDisposable
{
    private const string Colin27 = "/usr/share/mricron/templates/ch2.nii.gz";
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "imaging-cli-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }

    private static (int ExitCode, string Stdout, string Stderr) RunPipeline(params string[] args) => PipelineCli.Run(args);

    [Fact]
    public void Samples_make_then_metrics_prints_the_documented_json()
    {
        var clean = Path.Combine(_folder, "clean");
        var made = RunPipeline("samples", "make", Colin27, clean, "--first-slice", "88", "--slices", "3", "--noise", "gaussian:0.01", "--seed", "2");
        Assert.True(made.ExitCode == 0, made.Stdout + made.Stderr);
        Assert.Equal(3, Directory.GetFiles(clean, "*.dcm").Length);
        Assert.Equal(3, Directory.GetFiles(clean + "-noisy", "*.dcm").Length);

        var run = RunPipeline("metrics", clean, clean + "-noisy");
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        var json = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal(["instances", "mean"], json.EnumerateObject().Select(p => p.Name));
        var instances = json.GetProperty("instances").EnumerateArray().ToArray();
        Assert.Equal(3, instances.Length);
        foreach (var instance in instances)
        {
            Assert.Equal(["reference", "test", "mse", "psnr", "ssim"], instance.EnumerateObject().Select(p => p.Name));
            Assert.StartsWith(clean + Path.DirectorySeparatorChar, instance.GetProperty("reference").GetString());
            Assert.StartsWith(clean + "-noisy", instance.GetProperty("test").GetString());
            // Gaussian sd 0.01 x 4095 rounded to integers: MSE ~ 40.95^2 + 1/12 (less where clamped at 0), PSNR ~ 40 dB.
            Assert.InRange(instance.GetProperty("mse").GetDouble(), 0.8 * 1677, 1.05 * 1677);
            Assert.InRange(instance.GetProperty("psnr").GetDouble(), 39.7, 41);
            Assert.InRange(instance.GetProperty("ssim").GetDouble(), 0.3, 1);
        }
        var mean = json.GetProperty("mean");
        Assert.Equal(["mse", "psnr", "ssim"], mean.EnumerateObject().Select(p => p.Name));
        Assert.Equal(instances.Average(i => i.GetProperty("ssim").GetDouble()), mean.GetProperty("ssim").GetDouble(), 9);

        // An explicit data range R shifts PSNR by exactly 20 log10(R / 4095) and changes SSIM's constants only.
        var ranged = JsonDocument.Parse(RunPipeline("metrics", clean, clean + "-noisy", "--data-range", "255").Stdout).RootElement;
        Assert.Equal(mean.GetProperty("psnr").GetDouble() + 20 * Math.Log10(255 / 4095.0), ranged.GetProperty("mean").GetProperty("psnr").GetDouble(), 6);
        Assert.Equal(mean.GetProperty("mse").GetDouble(), ranged.GetProperty("mean").GetProperty("mse").GetDouble(), 9);
    }

    [Fact]
    public void Identical_series_report_null_psnr_and_bad_input_exits_1_with_a_reason()
    {
        var clean = Path.Combine(_folder, "same");
        Assert.Equal(0, RunPipeline("samples", "make", Colin27, clean, "--first-slice", "90", "--slices", "1").ExitCode);
        var file = Directory.GetFiles(clean).Single();
        var json = JsonDocument.Parse(RunPipeline("metrics", file, file).Stdout).RootElement;
        Assert.Equal(JsonValueKind.Null, json.GetProperty("mean").GetProperty("psnr").ValueKind);
        Assert.Equal(0, json.GetProperty("mean").GetProperty("mse").GetDouble());

        var missing = RunPipeline("metrics", Path.Combine(_folder, "nope"), file);
        Assert.Equal(1, missing.ExitCode);
        Assert.StartsWith("error:", missing.Stderr.Trim());
        var badNoise = RunPipeline("samples", "make", Colin27, clean, "--noise", "salt:0.1");
        Assert.NotEqual(0, badNoise.ExitCode);
    }
}
