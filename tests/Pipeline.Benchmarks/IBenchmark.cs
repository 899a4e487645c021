namespace Pipeline.Benchmarks;

/// <summary>A named benchmark run from the command line; found by reflection.</summary>
public interface IBenchmark
{
    string Name { get; }
    string Description { get; }
    Task<int> RunAsync(string[] args);
}
