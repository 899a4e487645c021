// Benchmarks: each prints figures compared with a reference measured in the same run.
Console.WriteLine("usage: dotnet run --project tests/Pipeline.Benchmarks -c Release -- <benchmark>");
return 0;
