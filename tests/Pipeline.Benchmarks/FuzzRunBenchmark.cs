using System.Diagnostics;
using System.Globalization;
using Pipeline.Testing;

namespace Pipeline.Benchmarks;

/// <summary>
/// The full hostile-input set (the CI test, RunInvariantTests, runs 3 x 64): `pipeline run` over four intact slices of
/// the sample study and <c>--files</c> mutants of its other slices (<see cref="DicomMutator"/>: bit flips, truncations,
/// huge and never-closed lengths, deep nesting, odd transfer syntaxes, pixel dimensions, frames, rescale values, duplicate
/// and missing UIDs), against the same run over the intact slices alone. Prints wall time and peak RSS of both, time per
/// mutant, how many got a failure record and how many ended as neither an output nor a record (must be 0).
/// `fuzz-run [--files 1000] [--seed 1] [--cli PATH]` (the Release tool: `dotnet build -c Release services/Pipeline.Cli`).
/// </summary>
public sealed class FuzzRunBenchmark : IBenchmark
{
    public string Name => "fuzz-run";

    public string Description => "`pipeline run` over 1,000 hostile mutants of the sample study: the run invariant, time and peak RSS vs intact slices alone";

    public Task<int> RunAsync(string[] args)
    {
        var files = Arguments.Int(args, "files", 1000);
        var seed = Arguments.Int(args, "seed", 1);
        var cli = Arguments.Get(args, "cli") ?? DenoiseMemoryBenchmark.DefaultCli();
        var folder = Directory.CreateTempSubdirectory("fuzz-run-").FullName;
        try
        {
            var sample = Directory.GetFiles(Path.Combine(SampleData.SampleStudy, "t1-noisy")).Order(StringComparer.Ordinal).ToList();
            string Input(string name, IEnumerable<DicomMutator.Mutant> mutants)
            {
                var series = Path.Combine(folder, name, "study", "t1");
                Directory.CreateDirectory(series);
                foreach (var file in sample.Take(4)) File.Copy(file, Path.Combine(series, Path.GetFileName(file)));
                foreach (var mutant in mutants) File.WriteAllBytes(Path.Combine(series, mutant.Name), mutant.Bytes);
                return Path.Combine(folder, name);
            }

            var mutants = DicomMutator.Generate([.. sample.Skip(4).Select(File.ReadAllBytes)], seed, files);
            var intact = Run(cli, Input("intact", []), Path.Combine(folder, "out-intact"));
            var hostile = Path.Combine(folder, "out-hostile");
            var fuzz = Run(cli, Input("hostile", mutants), hostile);

            var lost = RunInvariant.LostObjects(Path.Combine(folder, "hostile"), hostile);
            var denoised = RunInvariant.DenoisedSources(hostile).Count;
            var perMutant = (fuzz.Seconds - intact.Seconds) / files;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
                pipeline run, seed {seed}: 4 intact slices + {files} mutants ({string.Join(", ", mutants.GroupBy(m => m.Name.Split('-')[2][..^4]).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}"))})
                  intact alone: exit {intact.ExitCode}, {intact.Seconds:F1} s, peak RSS {intact.PeakKb / 1024.0:F0} MB
                  with mutants: exit {fuzz.ExitCode}, {fuzz.Seconds:F1} s ({perMutant * 1000:F0} ms per mutant), peak RSS {fuzz.PeakKb / 1024.0:F0} MB ({(double)fuzz.PeakKb / intact.PeakKb:F2}x)
                  objects denoised {denoised} (the 4 intact slices and mutants still denoisable), with neither an output nor a failure record: {lost.Count}
                  load average {PyTorchComparisonBenchmark.LoadAverage()}
                """));
            foreach (var key in lost.Take(20)) Console.WriteLine($"  lost: {key}");
            return Task.FromResult(lost.Count == 0 && fuzz.ExitCode is 0 or 2 ? 0 : 1);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static (int ExitCode, long PeakKb, double Seconds) Run(string cli, string input, string output)
    {
        var watch = Stopwatch.StartNew();
        var (exitCode, peakKb, _, report) = DenoiseMemoryBenchmark.Timed(cli, "run", input, "--out", output);
        if (exitCode is not (0 or 2)) throw new InvalidOperationException($"{cli} failed ({exitCode}): {report}");
        return (exitCode, peakKb, watch.Elapsed.TotalSeconds);
    }
}
