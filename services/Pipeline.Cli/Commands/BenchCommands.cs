using Pipeline.Cli.Commands.Bench;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands;

/// <summary>Registers the benchmark verbs of the command-line tool.</summary>
internal static class BenchCommands
{
    public static void AddBenchCommands(this IConfigurator config)
    {
        config.AddBranch("bench", bench =>
        {
            bench.SetDescription("Measure the product's own speed on this machine.");
            bench.AddCommand<InferenceBenchCommand>("inference")
                .WithDescription("Slices/s, GFLOP/s and peak RSS of one denoising engine (prints engine, device, slices_per_s, gflop_per_slice, gflops, peak_rss_mb).");
        });
    }
}
