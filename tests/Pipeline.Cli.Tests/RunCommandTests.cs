using System.Security.Cryptography;
using System.Text.Json;

namespace Pipeline.Cli.Tests;

/// <summary>`pipeline run` and `pipeline status`: the embedded pipeline, run as the real executable.</summary>
public sealed class RunCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static (int ExitCode, string Output) Pipeline(params string[] args)
    {
        var (exitCode, stdout, stderr) = PipelineCli.Run(args);
        return (exitCode, stdout + stderr);
    }

    private static Dictionary<string, string> Hashes(string folder) =>
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Where(f => !f.Contains("/.pipeline/", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetRelativePath(folder, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    [Fact]
    public void A_study_with_a_corrupt_and_a_non_dicom_object_is_denoised_evaluated_and_reported_and_a_rerun_is_byte_identical()
    {
        var input = Path.Combine(_dir.Path, "in");
        var series = Path.Combine(input, "study one", "t1");
        Directory.CreateDirectory(series);
        foreach (var file in Directory.GetFiles(Path.Combine(SampleData.SampleStudy, "t1-noisy")))
            File.Copy(file, Path.Combine(series, Path.GetFileName(file)));
        File.WriteAllText(Path.Combine(input, "study one", "notes.txt"), "not DICOM");
        File.WriteAllBytes(Path.Combine(input, "study one", "broken.dcm"), [.. File.ReadAllBytes(Path.Combine(series, "0003.dcm")).Take(200)]);
        var inputBefore = Hashes(input);
        var output = Path.Combine(_dir.Path, "out");

        var run = Pipeline("run", input, "--out", output);

        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode} (2 = some objects failed): {run.Output}");
        Assert.Equal(inputBefore, Hashes(input)); // the input is never modified
        var marker = Assert.Single(Directory.GetFiles(output, "complete.json", SearchOption.AllDirectories));
        var modelFolder = Path.GetDirectoryName(marker)!;
        var completion = JsonDocument.Parse(File.ReadAllText(marker)).RootElement;
        Assert.Equal(16, completion.GetProperty("Instances").GetArrayLength());
        Assert.Equal(16, Directory.GetFiles(Path.Combine(modelFolder, "instances"), "*.dcm", SearchOption.AllDirectories).Length);
        Assert.True(File.Exists(Path.Combine(modelFolder, "report.json")), run.Output);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(Path.Combine(modelFolder, "montage.png")).Take(4));
        foreach (var (name, reason) in new[] { ("notes.txt", "not a readable DICOM instance"), ("broken.dcm", "not a readable DICOM instance") })
        {
            var record = Path.Combine(output, "failures", "ingest", "incoming", "study one", name + ".json");
            Assert.True(File.Exists(record), $"no failure record for {name}: {run.Output}");
            Assert.Contains(reason, JsonDocument.Parse(File.ReadAllText(record)).RootElement.GetProperty("Reason").GetString());
        }
        Assert.Contains("1 series done, 2 failed objects, 0 input objects pending", run.Output);
        Assert.Contains("report: ", run.Output);
        // The morning report of the run, at the top of the output folder (its rendering: tests/Pipeline.Reporting.Tests).
        var morning = File.ReadAllText(Path.Combine(output, "report.html"));
        Assert.Contains("<dt>series done</dt><dd>1</dd>", morning);
        Assert.Contains("<dt>slices denoised</dt><dd>16</dd>", morning);
        Assert.Contains("<dt>failed objects</dt><dd>2</dd>", morning);
        Assert.Contains("study one/broken.dcm", morning);
        Assert.Contains("montage.png", morning);

        var derived = Hashes(Path.Combine(modelFolder, "instances"));
        var again = Pipeline("run", input, "--out", output);
        Assert.Equal(2, again.ExitCode);
        Assert.Equal(derived, Hashes(Path.Combine(modelFolder, "instances")));

        var status = Pipeline("status", output, "--input", input);
        Assert.Equal(0, status.ExitCode);
        Assert.Contains("1 series done, 2 failed objects, 0 input objects pending", status.Output);
        Assert.Contains("notes.txt", status.Output);
    }

    [Fact]
    public void With_no_arguments_it_denoises_the_bundled_sample_study_and_exits_0()
    {
        var output = Path.Combine(_dir.Path, "sample-out");

        var run = Pipeline("run", "--out", output);

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("1 series done, 0 failed objects, 0 input objects pending", run.Output);
        Assert.Single(Directory.GetFiles(output, "report.json", SearchOption.AllDirectories));
    }

    [Fact]
    public void Model_denoise_turns_a_dicom_folder_into_a_derived_series_with_no_servers()
    {
        var output = Path.Combine(_dir.Path, "derived");

        var run = Pipeline("model", "denoise", Path.Combine(SampleData.SampleStudy, "t1-noisy"), output);

        Assert.True(run.ExitCode == 0, run.Output);
        var series = Assert.Single(Directory.GetDirectories(output));
        var files = Directory.GetFiles(series, "*.dcm");
        Assert.Equal(16, files.Length);
        var dump = ExternalTool.Ok("dcmdump", "-Un", files[0]);
        Assert.Contains($"(0020,000e) UI [{Path.GetFileName(series)}]", dump);
        Assert.Contains(@"(0008,0008) CS [DERIVED\SECONDARY", dump);
        Assert.Contains("NOT FOR DIAGNOSTIC USE", dump);
    }
}
