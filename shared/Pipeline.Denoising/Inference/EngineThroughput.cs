using System.Diagnostics;
using System.Globalization;

namespace Pipeline.Denoising.Inference;

/// <summary>What one engine sustained on fixed batches: slices/s, the work per slice and the process's peak RSS.</summary>
public sealed record ThroughputFigures(string Engine, string Device, int Size, int Batch, double SlicesPerSecond, double GflopPerSlice,
    double PeakRssMb)
{
    public double Gflops => SlicesPerSecond * GflopPerSlice;

    /// <summary>One line of `key value` pairs, the format every inference benchmark prints.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"engine {Engine,-12} device {Device,-16} slices_per_s {SlicesPerSecond,7:F1}  gflop_per_slice {GflopPerSlice:F3}  gflops {Gflops,6:F1}  peak_rss_mb {PeakRssMb:F0}");
}

/// <summary>Measures an engine: one warm-up batch, then whole batches until the time is up.</summary>
public static class EngineThroughput
{
    public static ThroughputFigures Measure(IDenoisingEngine engine, int size, int batch, TimeSpan duration, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var input = new float[batch * engine.Architecture.InChannels * size * size];
        var random = new Random(seed);
        for (var i = 0; i < input.Length; i++)
            input[i] = random.NextSingle();
        var output = new float[batch * size * size];
        engine.Run(input, output, batch, size, size);
        var clock = Stopwatch.StartNew();
        var slices = 0;
        while (clock.Elapsed < duration)
        {
            engine.Run(input, output, batch, size, size);
            slices += batch;
        }
        var rate = slices / clock.Elapsed.TotalSeconds;
        using var process = Process.GetCurrentProcess();
        return new ThroughputFigures(engine.Name, engine.Device, size, batch, rate,
            2 * engine.Architecture.MacsPerPixel() * size * size / 1e9, process.PeakWorkingSet64 / 1e6);
    }
}
