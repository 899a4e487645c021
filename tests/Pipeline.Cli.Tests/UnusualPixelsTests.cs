using System.Text.Json;

namespace Pipeline.Cli.Tests;

/// <summary>Pixel values and layouts at the edge of what DICOM allows, through the real executable.</summary>
public sealed class UnusualPixelsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_slice_whose_rescale_overflows_fails_alone_in_a_run_and_its_failure_record_names_it_and_why()
    {
        // Rescale Slope 1e308 is a valid DS, but stored x slope is beyond what normalisation can hold: the slice must not
        // take its series down with it, and the record must name it (not whichever slice sorts first).
        var series = Path.Combine(_dir.Path, "in", "study", "t1");
        Directory.CreateDirectory(series);
        foreach (var file in Directory.GetFiles(Path.Combine(SampleData.SampleStudy, "t1-noisy")))
            File.Copy(file, Path.Combine(series, Path.GetFileName(file)));
        ExternalTool.Ok("dcmodify", "-nb", "-i", "(0028,1053)=1e308", "-i", "(0028,1052)=0", Path.Combine(series, "0007.dcm"));
        var output = Path.Combine(_dir.Path, "out");

        var (exitCode, stdout, stderr) = PipelineCli.Run("run", Path.Combine(_dir.Path, "in"), "--out", output);

        Assert.True(exitCode == 2, $"exit {exitCode} (2 = some objects failed): {stdout}{stderr}");
        var marker = JsonDocument.Parse(File.ReadAllText(Assert.Single(Directory.GetFiles(output, "complete.json", SearchOption.AllDirectories)))).RootElement;
        var denoised = marker.GetProperty("Instances").EnumerateArray().Select(i => i.GetProperty("Source").GetProperty("Key").GetString()).Order(StringComparer.Ordinal);
        Assert.Equal(Enumerable.Range(1, 16).Where(i => i != 7).Select(i => $"study/t1/{i:D4}.dcm"), denoised);
        Assert.Equal("study/t1/0007.dcm", Assert.Single(marker.GetProperty("FailedInstances").EnumerateArray()).GetProperty("Key").GetString());
        var record = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "failures", "denoise", "incoming", "study", "t1", "0007.dcm.json"))).RootElement;
        Assert.Equal("study/t1/0007.dcm", record.GetProperty("Source").GetProperty("Key").GetString());
        Assert.StartsWith("Rescale Slope 1E+308 / Intercept 0 make the modality values of stored values 0..4095 reach beyond", record.GetProperty("Reason").GetString());
        Assert.Single(Directory.GetFiles(Path.Combine(output, "failures"), "*.json", SearchOption.AllDirectories));
    }

    [Fact]
    public void A_1_bit_image_is_readable_by_dicom_pixels_and_a_run_reports_it_as_not_denoisable_at_ingest()
    {
        // A segmentation-like mask is valid DICOM: `dicom pixels` gives its packed pixel data, and ingest refuses it with
        // the rule's reason (not "not a readable DICOM instance"), leaving the denoiser untouched.
        var input = Path.Combine(_dir.Path, "in", "study", "mask");
        Directory.CreateDirectory(input);
        var mask = BinaryImage.Write(Path.Combine(input, "mask.dcm"), _dir);
        var raw = _dir.File("mask.raw");

        var pixels = PipelineCli.Run("dicom", "pixels", mask, raw);
        var output = Path.Combine(_dir.Path, "out");
        var (exitCode, stdout, stderr) = PipelineCli.Run("run", Path.Combine(_dir.Path, "in"), "--out", output);

        Assert.True(pixels.ExitCode == 0, pixels.Stderr);
        Assert.Equal(ExternalTool.RawPixelData(mask, _dir), File.ReadAllBytes(raw));
        Assert.True(exitCode == 2, $"exit {exitCode} (2 = some objects failed): {stdout}{stderr}");
        var record = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "failures", "ingest", "incoming", "study", "mask", "mask.dcm.json"))).RootElement;
        Assert.Equal("binary image (Bits Allocated 1, as masks and segmentations carry): only grey-scale images are denoised", record.GetProperty("Reason").GetString());
        Assert.Equal("NotDenoisable", record.GetProperty("ErrorType").GetString());
    }
}
