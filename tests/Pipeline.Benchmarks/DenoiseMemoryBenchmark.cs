using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Pipeline.Imaging;
using Pipeline.Imaging.Nifti;
using Pipeline.Imaging.Noise;
using Pipeline.Imaging.Samples;

namespace Pipeline.Benchmarks;

/// <summary>
/// Peak RSS of `pipeline model denoise IN OUT` (default model) on a DICOM series of a given size: Colin27 (ch2, 1 mm)
/// slices centred in a square of air (181x217 -> 256x256 by default), 180 slices, Rician noise, written as a sample
/// series, then the CLI runs under /usr/bin/time -v.
/// `denoise-memory [--size 256] [--slices 180] [--noise rician:0.05] [--cli PATH] [--keep DIR]`.
/// </summary>
public sealed partial class DenoiseMemoryBenchmark : IBenchmark
{
    private const string Nifti = "/usr/share/mricron/templates/ch2.nii.gz";

    public string Name => "denoise-memory";

    public string Description => "Peak RSS of `pipeline model denoise` on a 180-slice 256x256 DICOM series (Colin27 padded)";

    public Task<int> RunAsync(string[] args)
    {
        var size = Arguments.Int(args, "size", 256);
        var slices = Arguments.Int(args, "slices", 180);
        var noise = NoiseModel.Parse(Arguments.Get(args, "noise", "rician:0.05"));
        var cli = Arguments.Get(args, "cli") ?? DefaultCli();
        var keep = Arguments.Get(args, "keep");
        var folder = keep ?? Directory.CreateTempSubdirectory("denoise-memory-").FullName;
        try
        {
            var volume = NiftiReader.Read(Nifti).Volume;
            volume = volume.Slab(0, Math.Min(slices, volume.Depth));
            volume = volume.With(volume.Slices.Select(s => Centred(s, size)).ToArray());
            var options = SampleSeriesOptions.ForSlab(Nifti + $"@{size}", 0, volume.Depth);
            var stored = SampleSeries.ToStoredScale(volume, options.BitsStored);
            var input = Path.Combine(folder, "noisy");
            SampleSeries.Write(SampleSeries.AddNoise(stored, noise, seed: 1, options.BitsStored), input, options, SampleSeries.NoisyKind(noise, 1));
            Console.WriteLine($"{volume.Depth} slices {size}x{size} ({noise}) in {input}; load average {PyTorchComparisonBenchmark.LoadAverage()}");

            var (exitCode, peakKb, wall, report) = Timed(cli, "model", "denoise", input, Path.Combine(folder, "denoised"));
            if (exitCode != 0)
                throw new InvalidOperationException($"{cli} failed ({exitCode}): {report}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"pipeline model denoise: peak RSS {peakKb / 1024.0:F0} MB, wall {wall}; load average after {PyTorchComparisonBenchmark.LoadAverage()}"));
            return Task.FromResult(0);
        }
        finally
        {
            if (keep is null)
                Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The slice in the middle of a size x size square of zeros (air); cropped where it is larger.</summary>
    private static Image Centred(Image slice, int size)
    {
        var result = new Image(size, size, slice.ColumnSpacing, slice.RowSpacing);
        var (dx, dy) = ((size - slice.Width) / 2, (size - slice.Height) / 2);
        for (var y = Math.Max(0, -dy); y < slice.Height && y + dy < size; y++)
            for (var x = Math.Max(0, -dx); x < slice.Width && x + dx < size; x++)
                result[x + dx, y + dy] = slice[x, y];
        return result;
    }

    /// <summary>Runs <paramref name="cli"/> under <c>/usr/bin/time -v</c>: exit code, peak RSS (KB), wall clock and time's report.</summary>
    internal static (int ExitCode, long PeakKb, string Wall, string Report) Timed(string cli, params string[] args) =>
        Timed(new Dictionary<string, string>(), cli, args);

    /// <inheritdoc cref="Timed(string, string[])"/>
    internal static (int ExitCode, long PeakKb, string Wall, string Report) Timed(IReadOnlyDictionary<string, string> environment, string cli, params string[] args)
    {
        var start = new ProcessStartInfo("/usr/bin/time") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var (name, value) in environment)
            start.Environment[name] = value;
        foreach (var a in new[] { "-v", cli }.Concat(args))
            start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start /usr/bin/time");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var report = process.StandardError.ReadToEnd();
        process.WaitForExit();
        _ = stdout.Result;
        var peakKb = long.Parse(PeakRss().Match(report).Groups[1].Value, CultureInfo.InvariantCulture);
        return (process.ExitCode, peakKb, WallClock().Match(report).Groups[1].Value, report);
    }

    internal static string DefaultCli()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln")))
                return Path.Combine(dir.FullName, "services/Pipeline.Cli/bin/Release/net10.0/linux-x64/pipeline");
        throw new InvalidOperationException("Pipeline.sln not found above the benchmark; pass --cli PATH.");
    }

    [GeneratedRegex(@"Maximum resident set size \(kbytes\): (\d+)")]
    private static partial Regex PeakRss();

    [GeneratedRegex(@"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)")]
    private static partial Regex WallClock();
}
