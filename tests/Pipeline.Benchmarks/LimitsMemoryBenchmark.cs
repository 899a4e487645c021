using System.Globalization;
using Pipeline.Testing;

namespace Pipeline.Benchmarks;

/// <summary>
/// Peak RSS of `pipeline run` on the sample study alone, then with deflate bombs beside it (each ~250 KB inflating to
/// 256 MiB of zero pixels): what a hostile object costs under the per-object limits.
/// `limits-memory [--bombs 2] [--kind frame|overlong] [--limits default|off] [--cli PATH]`: "frame" is one 16384 x 8192
/// frame (past the pixels-per-frame limit), "overlong" a 64 x 64 image whose Pixel Data value is 256 MiB long;
/// `--limits off` raises every limit to its maximum (the reader as it was before the limits).
/// </summary>
public sealed class LimitsMemoryBenchmark : IBenchmark
{
    public string Name => "limits-memory";

    public string Description => "Peak RSS of `pipeline run` on the sample study with and without deflate bombs beside it";

    public Task<int> RunAsync(string[] args)
    {
        var bombs = Arguments.Int(args, "bombs", 2);
        var kind = Arguments.Get(args, "kind", "frame");
        var cli = Arguments.Get(args, "cli") ?? DenoiseMemoryBenchmark.DefaultCli();
        var limits = Arguments.Get(args, "limits", "default");
        var environment = limits == "off"
            ? new Dictionary<string, string>
            {
                ["Limits__MaxObjectBytes"] = int.MaxValue.ToString(CultureInfo.InvariantCulture),
                ["Limits__MaxDecompressedBytes"] = long.MaxValue.ToString(CultureInfo.InvariantCulture),
                ["Limits__MaxPixelsPerFrame"] = int.MaxValue.ToString(CultureInfo.InvariantCulture),
                ["Limits__MaxFrames"] = int.MaxValue.ToString(CultureInfo.InvariantCulture),
            }
            : [];
        var folder = Directory.CreateTempSubdirectory("limits-memory-").FullName;
        try
        {
            var input = Path.Combine(folder, "in");
            Directory.CreateDirectory(Path.Combine(input, "study", "t1"));
            foreach (var file in Directory.GetFiles(Path.Combine(SampleData.SampleStudy, "t1-noisy")))
                File.Copy(file, Path.Combine(input, "study", "t1", Path.GetFileName(file)));
            var (alone, _) = Run(environment, cli, input, Path.Combine(folder, "out-alone"));
            for (var i = 1; i <= bombs; i++)
            {
                var uid = $"1.2.826.0.1.3680043.2.1143.77.{i}";
                var path = Path.Combine(input, "study", $"bomb{i}.dcm");
                if (kind == "overlong") DeflateBomb.Write(path, "1.2.826.0.1.3680043.2.1143.77", uid, uid + ".1", 64, 64, pixelBytes: 256L << 20);
                else DeflateBomb.Write(path, "1.2.826.0.1.3680043.2.1143.77", uid, uid + ".1", 16384, 8192);
            }
            var (withBombs, exit) = Run(environment, cli, input, Path.Combine(folder, "out-bombs"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"pipeline run, sample study (16 slices): peak RSS {alone / 1024.0:F0} MB; with {bombs} {kind} deflate bombs of 256 MiB: {withBombs / 1024.0:F0} MB (exit {exit}), limits {limits}; load average {PyTorchComparisonBenchmark.LoadAverage()}"));
            return Task.FromResult(0);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static (long PeakKb, int ExitCode) Run(IReadOnlyDictionary<string, string> environment, string cli, string input, string output)
    {
        var (exitCode, peakKb, _, report) = DenoiseMemoryBenchmark.Timed(environment, cli, "run", input, "--out", output);
        if (exitCode is not (0 or 2)) throw new InvalidOperationException($"{cli} failed ({exitCode}): {report}");
        return (peakKb, exitCode);
    }
}
