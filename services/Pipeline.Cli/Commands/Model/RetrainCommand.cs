using System.ComponentModel;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pipeline.Cli.Commands.Jobs;
using Pipeline.Cli.Commands.Pipeline;
using Pipeline.Contracts;
using Pipeline.Hosting;
using Pipeline.Registry;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands.Model;

/// <summary>
/// `pipeline model retrain [--steps N] [--minutes M] [--wait]`: publishes a RetrainRequested to the deployment's training
/// coordinator (broker and store configured like the services); with --wait, shows the run's progress from the training
/// lease and ends with its decision record (exit 0 when the run ended promoted, rejected or skipped; 1 when it failed).
/// Plain lines, never wrapped: scripts read them.
/// </summary>
internal sealed class RetrainCommand : RegistryCommand<RetrainCommand.Settings>
{
    internal sealed class Settings : RegistrySettings
    {
        [CommandOption("--steps <N>"), Description("Step budget of this run (default: the coordinator's TrainingCoordinator__Steps)")]
        public int? Steps { get; init; }

        [CommandOption("--minutes <M>"), Description("Wall-time budget of the training (default: the coordinator's TrainingCoordinator__Minutes)")]
        public double? Minutes { get; init; }

        [CommandOption("--wait"), Description("Show the run's progress and wait for its decision record")]
        public bool Wait { get; init; }

        [CommandOption("--timeout <MINUTES>"), Description("With --wait: give up after this many minutes (default 720)")]
        public double Timeout { get; init; } = 720;
    }

    protected override async Task<int> RunAsync(ModelRegistry registry, string model, Settings settings, CancellationToken ct)
    {
        var environment = Buckets.Environment();
        if (settings.Output is not null || environment["Storage:Kind"] is null)
            return JobsSettings.Fail("model retrain asks the deployment's training coordinator: configure the store (Storage__Kind, Storage__S3__...) and the broker (Bus__RabbitMq__...), without --out");
        if (JobsSettings.Broker(environment, out var error) is null)
            return JobsSettings.Fail($"model retrain needs the broker: {error}");
        if (settings.Steps is < 1 || settings.Minutes is <= 0)
            return JobsSettings.Fail("--steps and --minutes must be positive");

        var request = new RetrainRequested(NewId.NextGuid(), RetrainRequested.OnRequest, settings.Steps, settings.Minutes);
        await PublishAsync(environment, request, ct);
        if (!settings.Json) Console.WriteLine($"retrain requested ({request.RequestId})");
        if (!settings.Wait)
            return settings.Json ? PrintJson(new { request.RequestId }) : 0;

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(settings.Timeout));
        string? shown = null;
        try
        {
            while (true)
            {
                // The decision names the request; until then the lease says how far the run is.
                if ((await registry.ListDecisionsAsync(model, timeout.Token)).LastOrDefault(d => d.RequestId == request.RequestId) is { } decision)
                {
                    if (settings.Json) PrintJson(decision);
                    else Console.WriteLine($"run {decision.RunId}: {decision.Reason}");
                    return decision.Reason.StartsWith("failed", StringComparison.Ordinal) ? 1 : 0;
                }
                if (await registry.ReadTrainingLeaseAsync(model, timeout.Token) is { } lease
                    && $"run {lease.RunId}: {lease.Stage}, step {lease.Step}/{lease.TotalSteps}" is var line && line != shown && !settings.Json)
                {
                    Console.WriteLine(line);
                    shown = line;
                }
                await Task.Delay(TimeSpan.FromSeconds(2), timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return JobsSettings.Fail($"no decision for request {request.RequestId} after {settings.Timeout} minutes (is the training coordinator running?)");
        }
    }

    /// <summary>Publishes through a bus configured like the services' (Bus__...), started only for this.</summary>
    private static async Task PublishAsync(IConfiguration environment, RetrainRequested request, CancellationToken ct)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "pipeline" });
        builder.Configuration.AddConfiguration(environment);
        builder.AddPipelineBus(_ => { });
        builder.Services.Configure<MassTransitHostOptions>(host => host.WaitUntilStarted = true);
        using var host = builder.Build();
        await host.StartAsync(ct);
        try
        {
            await host.Services.GetRequiredService<IBus>().Publish(request, ct);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }
}
