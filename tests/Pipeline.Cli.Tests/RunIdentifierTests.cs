using System.Text.Json;
using Pipeline.Dicom;

namespace Pipeline.Cli.Tests;

/// <summary>`pipeline run` (embedded) over inputs whose DICOM identifiers are bad: each bad object fails alone, the run ends.</summary>
public sealed class RunIdentifierTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>The sample's 16 noisy slices in in/study/t1, plus a copy of one of them, edited, beside them.</summary>
    private string Input(string extraName, Action<Dataset> edit, string extraFrom)
    {
        var series = Path.Combine(_dir.Path, "in", "study", "t1");
        Directory.CreateDirectory(series);
        foreach (var file in Directory.GetFiles(Path.Combine(SampleData.SampleStudy, "t1-noisy")))
            File.Copy(file, Path.Combine(series, Path.GetFileName(file)));
        var extra = DicomFile.Open(File.ReadAllBytes(Path.Combine(series, extraFrom)));
        edit(extra.Dataset);
        using (var output = File.Create(Path.Combine(series, extraName)))
            extra.Save(output);
        return Path.Combine(_dir.Path, "in");
    }

    private static (int ExitCode, string Output) Run(string input, string output)
    {
        var (exitCode, stdout, stderr) = PipelineCli.Run("run", input, "--out", output);
        return (exitCode, stdout + stderr);
    }

    private static string ReasonOf(string output, string key) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "failures", "ingest", "incoming", key + ".json"))).RootElement.GetProperty("Reason").GetString()!;

    /// <summary>The series' marker and the number of derived objects written beside it.</summary>
    private static (int MarkerInstances, int Derived) Outputs(string output)
    {
        var marker = Assert.Single(Directory.GetFiles(output, "complete.json", SearchOption.AllDirectories));
        var instances = JsonDocument.Parse(File.ReadAllText(marker)).RootElement.GetProperty("Instances").GetArrayLength();
        var derived = Directory.GetFiles(Path.Combine(Path.GetDirectoryName(marker)!, "instances"), "*.dcm", SearchOption.AllDirectories).Length;
        return (instances, derived);
    }

    /// <summary>
    /// A Series Instance UID that is a path ('../../outside') used to reach an output key and throw on every pass of
    /// ingest's loop: the run never ended. Now that instance fails alone and the good series is denoised.
    /// </summary>
    [Fact]
    public void A_slice_whose_series_uid_is_a_path_fails_alone_with_its_record_and_the_run_ends()
    {
        var input = Input("outside.dcm", ds => ds.SetString(DicomTags.SeriesInstanceUID, "../../outside"), extraFrom: "0004.dcm");
        var output = Path.Combine(_dir.Path, "out");

        var run = Run(input, output);

        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode} (2 = some objects failed): {run.Output}");
        Assert.Equal((16, 16), Outputs(output));
        Assert.StartsWith("not a readable DICOM instance: Series Instance UID is not a valid UID: \"../../outside\"", ReasonOf(output, "study/t1/outside.dcm"), StringComparison.Ordinal);
        Assert.Contains("1 series done, 1 failed objects, 0 input objects pending", run.Output);
    }

    /// <summary>
    /// Two different objects with one SOP Instance UID used to write one derived object (the last writer won) while the
    /// marker listed both. Now the first in key order is denoised, the other fails alone naming the UID and the kept
    /// object, and the marker lists exactly the derived objects written.
    /// </summary>
    [Fact]
    public void Of_two_slices_with_one_sop_instance_uid_one_is_denoised_and_the_other_has_a_record_naming_both()
    {
        string sop = "";
        var input = Input("0005b.dcm", ds =>
        {
            sop = ds.GetString(DicomTags.SOPInstanceUID)!;
            ds.SetNumber(DicomTags.InstanceNumber, 99); // a different object claiming the same identity
        }, extraFrom: "0005.dcm");
        var output = Path.Combine(_dir.Path, "out");

        var run = Run(input, output);

        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode} (2 = some objects failed): {run.Output}");
        Assert.Equal((16, 16), Outputs(output));
        var reason = ReasonOf(output, "study/t1/0005b.dcm");
        Assert.Contains($"duplicate SOP Instance UID {sop}", reason, StringComparison.Ordinal);
        Assert.Contains("study/t1/0005.dcm", reason, StringComparison.Ordinal);
        Assert.Contains("1 series done, 1 failed objects, 0 input objects pending", run.Output);
    }

    /// <summary>
    /// A file whose name is no valid object key (a control character, a backslash) used to be skipped with a log line
    /// only: the input ended as neither an output nor a failure record. Now each has a record, named after the key's
    /// hash (the key itself cannot be part of a key) and naming the key inside, and the good series is denoised.
    /// </summary>
    [Fact]
    public void Files_whose_names_are_no_valid_keys_each_get_a_failure_record_naming_them()
    {
        var input = Input("0004b.dcm", _ => { }, extraFrom: "0004.dcm");
        var series = Path.Combine(input, "study", "t1");
        string[] names = ["bell\u0007.dcm", "back\\slash.dcm"];
        File.Copy(Path.Combine(series, "0004b.dcm"), Path.Combine(series, names[1]));
        File.Move(Path.Combine(series, "0004b.dcm"), Path.Combine(series, names[0]));
        var output = Path.Combine(_dir.Path, "out");

        var run = Run(input, output);

        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode} (2 = some objects failed): {run.Output}");
        Assert.Equal((16, 16), Outputs(output));
        var records = Directory.GetFiles(Path.Combine(output, "failures", "unusable-keys", "ingest", "incoming"), "*.json")
            .Select(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement).ToList();
        Assert.Equal(names.Select(n => "study/t1/" + n).Order(StringComparer.Ordinal),
            records.Select(r => r.GetProperty("Source").GetProperty("Key").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(records, r => Assert.StartsWith("the object's key is not a valid object name", r.GetProperty("Reason").GetString(), StringComparison.Ordinal));
        Assert.Contains("1 series done, 2 failed objects, 0 input objects pending", run.Output);
    }
}
