using System.Text.Json;

namespace Pipeline.Cli.Tests;

/// <summary>`pipeline run` with objects past the default per-object limits next to a good series.</summary>
public sealed class RunLimitsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_deflate_bomb_and_a_too_large_image_fail_alone_with_records_naming_the_limit_and_the_good_series_is_done()
    {
        // Requirement: an object past a limit costs one failure record naming that limit, not memory or the run.
        var input = Path.Combine(_dir.Path, "in");
        var study = Path.Combine(input, "study");
        Directory.CreateDirectory(Path.Combine(study, "t1"));
        foreach (var file in Directory.GetFiles(Path.Combine(SampleData.SampleStudy, "t1-noisy")))
            File.Copy(file, Path.Combine(study, "t1", Path.GetFileName(file)));
        // 250 KB that inflate to 256 MiB: one 16384 x 8192 frame, more pixels than any real frame.
        DeflateBomb.Write(Path.Combine(study, "bomb.dcm"), "1.2.826.0.1.3680043.2.1143.9", "1.2.826.0.1.3680043.2.1143.9.1", "1.2.826.0.1.3680043.2.1143.9.1.1", 16384, 8192);
        // 300 frames of 4096 x 4096 at 16 bits: 10 GB once decoded (its header alone is enough to refuse it).
        DeflateBomb.Write(Path.Combine(study, "volume.dcm"), "1.2.826.0.1.3680043.2.1143.9", "1.2.826.0.1.3680043.2.1143.9.2", "1.2.826.0.1.3680043.2.1143.9.2.1", 4096, 4096, frames: 300, pixelBytes: 2);
        var output = Path.Combine(_dir.Path, "out");

        var (exitCode, stdout, stderr) = PipelineCli.Run("run", input, "--out", output);

        var log = stdout + stderr;
        Assert.True(exitCode == 2, $"exit {exitCode} (2 = some objects failed): {log}");
        var marker = Assert.Single(Directory.GetFiles(output, "complete.json", SearchOption.AllDirectories));
        Assert.Equal(16, JsonDocument.Parse(File.ReadAllText(marker)).RootElement.GetProperty("Instances").GetArrayLength());
        foreach (var (name, limit) in new[] { ("bomb.dcm", "(MaxPixelsPerFrame)"), ("volume.dcm", "(MaxDecompressedBytes)") })
        {
            var record = Path.Combine(output, "failures", "ingest", "incoming", "study", name + ".json");
            Assert.True(File.Exists(record), $"no failure record for {name}: {log}");
            Assert.Contains(limit, JsonDocument.Parse(File.ReadAllText(record)).RootElement.GetProperty("Reason").GetString(), StringComparison.Ordinal);
        }
        Assert.Contains("1 series done, 2 failed objects, 0 input objects pending", log);
    }
}
