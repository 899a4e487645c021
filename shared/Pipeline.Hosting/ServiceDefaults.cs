using MassTransit;
using MassTransit.Logging;
using MassTransit.Monitoring;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Pipeline.Hosting;

/// <summary>What every service gets: validated settings, OpenTelemetry, health checks and the message bus.</summary>
public static class ServiceDefaults
{
    /// <summary>Prefix of every ActivitySource and Meter the product's own code creates ("Pipeline.Ingest", ...).</summary>
    public const string TelemetryPrefix = "Pipeline";

    /// <summary>
    /// Adds the service defaults. <paramref name="configureBus"/> registers the service's consumers;
    /// the transport (RabbitMQ or in-memory) comes from the "Bus" settings.
    /// </summary>
    public static IHostApplicationBuilder AddServiceDefaults(
        this IHostApplicationBuilder builder,
        Action<IBusRegistrationConfigurator>? configureBus = null)
    {
        builder.AddTelemetry();
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), tags: ["live"]);
        builder.AddPipelineBus(configureBus ?? (_ => { }));
        return builder;
    }

    /// <summary>
    /// OpenTelemetry logs, metrics and traces for the product's sources and MassTransit's; exported
    /// over OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT is set (standard OTEL_* variables apply). Metrics are
    /// also served for Prometheus at /metrics (<see cref="MapDefaultEndpoints"/>); docs/telemetry.md lists them.
    /// </summary>
    public static IHostApplicationBuilder AddTelemetry(this IHostApplicationBuilder builder)
    {
        var serviceName = builder.Configuration["OTEL_SERVICE_NAME"] ?? builder.Environment.ApplicationName;
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithMetrics(metrics => metrics
                .AddRuntimeInstrumentation()
                .AddHttpClientInstrumentation()
                .AddMeter(InstrumentationOptions.MeterName)
                .AddMeter(TelemetryPrefix + ".*")
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .AddSource(DiagnosticHeaders.DefaultListenerName)
                .AddSource(TelemetryPrefix + ".*")
                .AddHttpClientInstrumentation());
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            telemetry.UseOtlpExporter();
        return builder;
    }

    /// <summary>
    /// MassTransit on RabbitMQ (distributed) or in memory (embedded). Retries are in-process with
    /// exponential backoff: the broker has no delayed-exchange plugin. A message that still fails
    /// goes to its endpoint's _error queue with MassTransit's fault headers. A message of a newer
    /// contract revision is refused before any consumer sees it (<see cref="ContractVersionFilter{T}"/>).
    /// </summary>
    public static IHostApplicationBuilder AddPipelineBus(
        this IHostApplicationBuilder builder,
        Action<IBusRegistrationConfigurator> configureBus)
    {
        builder.AddValidatedOptions<BusOptions>(BusOptions.Section);
        var options = builder.Configuration.GetSection(BusOptions.Section).Get<BusOptions>() ?? new BusOptions();
        builder.Services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            configureBus(bus);
            switch (options.Transport)
            {
                case BusTransport.InMemory:
                    bus.UsingInMemory((context, cfg) =>
                    {
                        ApplyEndpointDefaults(cfg, context, options);
                        cfg.ConfigureEndpoints(context);
                    });
                    break;
                case BusTransport.RabbitMq:
                    builder.Services.TryAddSingleton(TimeProvider.System);
                    builder.Services.AddHostedService<QueueDepthGauges>();
                    bus.UsingRabbitMq((context, cfg) =>
                    {
                        var broker = options.RabbitMq;
                        cfg.Host(broker.Host, (ushort)broker.Port, broker.VirtualHost, host =>
                        {
                            host.Username(broker.Username);
                            host.Password(broker.Password);
                        });
                        cfg.PrefetchCount = options.PrefetchCount;
                        ApplyEndpointDefaults(cfg, context, options);
                        cfg.ConfigureEndpoints(context);
                    });
                    break;
                default:
                    throw new InvalidOperationException($"unknown Bus:Transport '{options.Transport}'");
            }
        });
        return builder;
    }

    private static void ApplyEndpointDefaults(IBusFactoryConfigurator cfg, IRegistrationContext context, BusOptions options)
    {
        cfg.ConcurrentMessageLimit = options.ConcurrentMessageLimit;
        // Waits of 1.5, 2.5, 4.5, 8.5 s, then 15 s each: the default 7 retries span about a minute, so a storage
        // or broker outage shorter than that costs time, not jobs (messages are idempotent, so a retry is safe).
        if (options.RetryLimit > 0)
            cfg.UseMessageRetry(retry =>
            {
                retry.Ignore([typeof(UnsupportedContractVersionException), .. context.GetServices<PermanentFailure>().Select(p => p.ExceptionType)]);
                retry.Exponential(options.RetryLimit, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(1));
            });
        cfg.UseConsumeFilter(typeof(ContractVersionFilter<>), context);
    }

    /// <summary>
    /// Registers an exception a retry cannot fix (the message or what it names is bad, e.g. a model version that does not
    /// verify): a message failing with it goes to the error queue at once instead of being retried for a minute.
    /// </summary>
    public static IServiceCollection AddPermanentFailure<TException>(this IServiceCollection services)
        where TException : Exception =>
        services.AddSingleton(new PermanentFailure(typeof(TException)));

    /// <summary>Maps /health/live (process up), /health/ready (bus connected and every check healthy) and /metrics (Prometheus).</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint();
        app.MapHealthChecks("/health/ready");
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = check => check.Tags.Contains("live") });
        return app;
    }
}

/// <summary>An exception type that is not retried (see <see cref="ServiceDefaults.AddPermanentFailure{TException}"/>).</summary>
public sealed record PermanentFailure(Type ExceptionType);
