using System.ComponentModel;
using Microsoft.Extensions.Configuration;
using Pipeline.Hosting;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands.Jobs;

/// <summary>
/// Where the jobs verbs look: an embedded run's OUT_DIR, or (without --out) the distributed deployment configured like the
/// services: the object store (Storage__...) and the broker (Bus__RabbitMq__...).
/// </summary>
internal class JobsSettings : CommandSettings
{
    [CommandOption("--out <OUT_DIR>"), Description("Output folder of an embedded run (default: the configured S3 store and RabbitMQ broker)")]
    public string? Output { get; init; }

    public bool Distributed => Output is null;

    /// <summary>The broker's settings, or null with <paramref name="error"/> naming what is missing or invalid.</summary>
    public static RabbitMqOptions? Broker(IConfiguration configuration, out string error)
    {
        var bus = configuration.GetSection(BusOptions.Section).Get<BusOptions>() ?? new BusOptions();
        var invalid = bus.Transport == BusTransport.RabbitMq ? ValidatedOptions.Validate(bus, BusOptions.Section) : ["setting 'Bus:Transport' is not RabbitMq"];
        error = string.Join("; ", invalid);
        return invalid.Count == 0 ? bus.RabbitMq : null;
    }

    /// <summary>Reports a refusal in one line on stderr (never wrapped, whatever the terminal width); returns exit code 1.</summary>
    public static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        return 1;
    }
}
