using System.Diagnostics;

namespace Pipeline.Cli.Tests;

/// <summary>
/// The run invariant, over hostile files derived from the sample study (<see cref="DicomMutator"/>): `pipeline run` always
/// ends, and every input object ends as an output (a source in some series' completion marker) or with a failure record
/// naming it and the reason.
/// </summary>
public sealed class RunInvariantTests : IDisposable
{
    /// <summary>Mutants per run: enough to draw every kind of damage several times, few enough for CI on 2 cores.</summary>
    private const int Mutants = 64;

    /// <summary>The bound on one run: a start-up allowance plus a per-object budget far above a healthy slice's cost.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30) + (Mutants + 4) * TimeSpan.FromSeconds(2);

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Every_input_object_of_a_run_over_hostile_files_ends_as_an_output_or_a_failure_record_and_the_run_ends(int seed)
    {
        // Four intact slices, and mutants of the twelve others (so no mutant is a byte copy of an intact slice).
        var sample = Directory.GetFiles(Path.Combine(SampleData.SampleStudy, "t1-noisy")).Order(StringComparer.Ordinal).ToList();
        var series = Path.Combine(_dir.Path, "in", "study", "t1");
        Directory.CreateDirectory(series);
        foreach (var file in sample.Take(4)) File.Copy(file, Path.Combine(series, Path.GetFileName(file)));
        var mutants = DicomMutator.Generate([.. sample.Skip(4).Select(File.ReadAllBytes)], seed, Mutants);
        foreach (var mutant in mutants) File.WriteAllBytes(Path.Combine(series, mutant.Name), mutant.Bytes);
        var input = Path.Combine(_dir.Path, "in");
        var output = Path.Combine(_dir.Path, "out");

        var watch = Stopwatch.StartNew();
        var (exitCode, stdout, stderr) = PipelineCli.Run(Bound, "run", input, "--out", output);
        watch.Stop();

        Assert.True(exitCode == 2, $"exit {exitCode} (2 = some objects failed): {stdout}{stderr}");
        var denoised = RunInvariant.DenoisedSources(output);
        var intact = sample.Take(4).Select(file => $"study/t1/{Path.GetFileName(file)}").ToList();
        Assert.True(intact.All(denoised.Contains), $"seed {seed}: the intact slices are not all in a completion marker: {stdout}{stderr}");

        var mutation = mutants.ToDictionary(m => $"study/t1/{m.Name}", m => m.Mutation);
        var lost = RunInvariant.LostObjects(input, output).Select(key => $"{key} ({mutation.GetValueOrDefault(key, "intact")})").ToList();
        Assert.True(lost.Count == 0, $"seed {seed}: {lost.Count} objects with neither an output nor a failure record:\n{string.Join('\n', lost)}");
        Assert.True(watch.Elapsed < Bound, $"took {watch.Elapsed}");
    }
}
