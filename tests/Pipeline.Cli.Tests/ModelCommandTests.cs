using System.Text.Json;
using Pipeline.Testing;

namespace Pipeline.Cli.Tests;

/// <summary>The model training, evaluation and benchmark verbs, run as the real `pipeline` executable.</summary>
public sealed class ModelCommandTests
{
    [Fact]
    public void Evaluate_prints_noisy_baselines_and_model_per_scaling_and_level()
    {
        var run = PipelineCli.Run("model", "evaluate", "--noise", "rician:0.10,0.20", "--slices", "2", "--json");

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        var json = JsonDocument.Parse(run.Stdout).RootElement;
        // Two slices evenly spaced among the qualifying test slices of ch2better: the first and the last (numpy: 252, 272).
        Assert.Equal([252, 272], json.GetProperty("slices").EnumerateArray().Select(e => e.GetInt32()));
        var figures = json.GetProperty("figures").EnumerateArray().ToArray();
        Assert.Equal(2 * 2 * 4, figures.Length); // scalings x levels x (noisy, nlm, median, model)
        foreach (var scaling in new[] { "dim", "bright" })
            foreach (var level in new[] { 0.1, 0.2 })
            {
                var row = figures.Where(f => f.GetProperty("scaling").GetString() == scaling && f.GetProperty("level").GetDouble() == level)
                    .ToDictionary(f => f.GetProperty("method").GetString()!, f => (Psnr: f.GetProperty("psnr").GetDouble(), Ssim: f.GetProperty("ssim").GetDouble()));
                Assert.Equal(["noisy", "nlm-unbiased", "median3x3", "model"], row.Keys);
                // Rician noise of a tenth (a fifth) of the range on a mostly dark slice: whole-slice PSNR 16-22 dB (11-16 dB).
                Assert.InRange(row["noisy"].Psnr, level == 0.1 ? 16 : 11, level == 0.1 ? 22 : 16);
                Assert.True(row["nlm-unbiased"].Psnr > row["noisy"].Psnr + 5, $"{scaling} {level}: NLM {row["nlm-unbiased"].Psnr}");
                Assert.True(row["model"].Psnr > row["noisy"].Psnr, $"{scaling} {level}: model {row["model"].Psnr}");
            }
    }

    [Fact]
    public void Evaluate_refuses_a_bad_noise_spec_with_a_clear_error()
    {
        var run = PipelineCli.Run("model", "evaluate", "--noise", "rician", "--slices", "1");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("error: noise spec 'rician' is not NAME:LEVEL", run.Stderr);

        var split = PipelineCli.Run("model", "evaluate", "--split", "1", "--slices", "1");
        Assert.Equal(1, split.ExitCode);
        Assert.Contains("error: --split '1' is not 'test' or 'validation'", split.Stderr);
    }

    [Fact]
    public void Evaluate_and_train_refuse_inia19_and_evaluate_refuses_unknown_protocols_and_sets()
    {
        // inia19 is held out for independent checks: refused by name (the path does not exist: nothing can be read).
        foreach (var args in new[]
                 {
                     new[] { "model", "evaluate", "--data", "/nonexistent/inia19-t1-brain.nii.gz", "--slices", "1" },
                     new[] { "model", "train", "/nonexistent/inia19-t1-brain.nii.gz", "--out", Path.Combine(Path.GetTempPath(), "never-written"), "--steps", "1" },
                 })
        {
            var run = PipelineCli.Run(args);
            Assert.Equal(1, run.ExitCode);
            Assert.Contains("inia19 is held out for independent checks", run.Stderr);
        }

        var protocol = PipelineCli.Run("model", "evaluate", "--protocol", "loo");
        Assert.Equal(1, protocol.ExitCode);
        Assert.Contains("error: --protocol 'loo' is not 'in-subject' or 'generalisation'", protocol.Stderr);
        var sets = PipelineCli.Run("model", "evaluate", "--protocol", "generalisation", "--sets", "ch2,inia19");
        Assert.Equal(1, sets.ExitCode);
        Assert.Contains("error: --sets: no set 'inia19'", sets.Stderr);
    }

    [Fact]
    public void Train_reads_a_dicom_series_folder_and_fine_tunes_only_a_model_of_the_same_architecture()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"cli-train-{Guid.NewGuid():N}");
        try
        {
            var data = Path.Combine(SampleData.SampleStudy, "t1"); // 16 DICOM slices
            string[] tiny = ["--arch", "dncnn", "--depth", "2", "--width", "16", "--steps", "2", "--patch", "32", "--batch", "2",
                "--validate-every", "2", "--threads", "1"];
            var run = PipelineCli.Run(["model", "train", data, "--out", Path.Combine(folder, "a"), .. tiny]);
            Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
            var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "a", "manifest.json"))).RootElement;
            var lineage = manifest.GetProperty("training").GetProperty("data").EnumerateArray().ToArray();
            // 16 slices: the lower 70 % (0-10) train, the next 10 % (11) validates.
            Assert.Equal([("train", 0, 10), ("validation", 11, 11)], lineage.Select(l =>
                (l.GetProperty("role").GetString(), l.GetProperty("firstSlice").GetInt32(), l.GetProperty("lastSlice").GetInt32())));
            Assert.All(lineage, l => Assert.Equal(data, l.GetProperty("source").GetString()));
            Assert.Matches("^[0-9a-f]{64}$", lineage[0].GetProperty("sha256").GetString());

            var tuned = PipelineCli.Run(["model", "train", data, "--out", Path.Combine(folder, "b"), "--init", Path.Combine(folder, "a"), .. tiny]);
            Assert.True(tuned.ExitCode == 0, tuned.Stdout + tuned.Stderr);
            var initial = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "b", "manifest.json"))).RootElement
                .GetProperty("training").GetProperty("initialModel");
            Assert.Equal(manifest.GetProperty("version").GetString(), initial.GetProperty("version").GetString());

            var wider = PipelineCli.Run(["model", "train", data, "--out", Path.Combine(folder, "c"), "--init", Path.Combine(folder, "a"),
                .. tiny[..5], "32", .. tiny[6..]]);
            Assert.Equal(1, wider.ExitCode);
            Assert.Contains($"error: Initial model '{Path.Combine(folder, "a")}' is ", wider.Stderr);
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Bench_inference_prints_the_documented_fields()
    {
        var run = PipelineCli.Run("bench", "inference", "--arch", "cdae", "--size", "64", "--batch", "2", "--threads", "1", "--seconds", "0.5", "--json");

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        var json = JsonDocument.Parse(run.Stdout).RootElement;
        Assert.Equal("onnxruntime", json.GetProperty("engine").GetString());
        Assert.StartsWith("cpu", json.GetProperty("device").GetString());
        // cdae MACs per pixel (hand count): 9*64*(1 + 64/4 + 64/16 + 64/4 + 1) = 21,888 -> 2 x 21,888 x 64^2 / 1e9 GFLOP.
        Assert.Equal(2 * 21888.0 * 64 * 64 / 1e9, json.GetProperty("gflop_per_slice").GetDouble(), 4);
        Assert.True(json.GetProperty("slices_per_s").GetDouble() > 0);
        var gflops = json.GetProperty("slices_per_s").GetDouble() * json.GetProperty("gflop_per_slice").GetDouble();
        Assert.InRange(json.GetProperty("gflops").GetDouble(), gflops - 0.02, gflops + 0.02); // each field rounded to 2 decimals
        Assert.True(json.GetProperty("peak_rss_mb").GetDouble() > 10);
    }
}
