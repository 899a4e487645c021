using Pipeline.Benchmarks;

// Each benchmark prints its figures next to a reference measured in the same run.
var benchmarks = typeof(IBenchmark).Assembly.GetTypes()
    .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .ToDictionary(b => b.Name, StringComparer.OrdinalIgnoreCase);

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var benchmark))
{
    Console.WriteLine("usage: dotnet run --project tests/Pipeline.Benchmarks -c Release -- <benchmark> [options]");
    foreach (var b in benchmarks.Values.OrderBy(b => b.Name))
        Console.WriteLine($"  {b.Name,-20} {b.Description}");
    return args.Length == 0 ? 0 : 2;
}
return await benchmark.RunAsync(args[1..]);
