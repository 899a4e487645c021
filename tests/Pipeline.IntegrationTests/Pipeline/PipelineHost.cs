using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.DenoiseWorker;
using Pipeline.Evaluation;
using Pipeline.Hosting;
using Pipeline.Ingest;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Pipeline;

/// <summary>
/// Ingest, one denoise worker and evaluation in one generic host, wired with the same registration methods as the
/// services' Program.cs (AddServiceDefaults with each service's consumers, AddObjectStore, AddIngest,
/// AddDenoiseWorker, AddEvaluation), on the real RabbitMQ and S3 server of a <see cref="PipelineScope"/>.
/// A <see cref="BusRecorder"/> rides on the same bus and records what the services published.
/// </summary>
public sealed class PipelineHost : IAsyncDisposable
{
    private readonly IHost _host;

    private PipelineHost(IHost host)
    {
        _host = host;
        Recorder = host.Services.GetRequiredService<BusRecorder>();
    }

    public BusRecorder Recorder { get; }

    public IBus Bus => _host.Services.GetRequiredService<IBus>();

    public static async Task<PipelineHost> StartAsync(PipelineScope scope, ITestOutputHelper output)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "Pipeline.IntegrationTests" });
        builder.Configuration.AddInMemoryCollection(scope.Settings());
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("MassTransit", LogLevel.Warning);
        builder.Logging.AddProvider(new TestOutputLoggerProvider(output));

        builder.AddServiceDefaults(bus =>
        {
            bus.AddIngestConsumers();
            bus.AddDenoiseWorkerConsumers();
            bus.AddEvaluationConsumers();
            BusRecorder.AddRecordingConsumers(bus);
        });
        builder.AddObjectStore();
        builder.AddIngest();
        builder.AddDenoiseWorker();
        builder.AddEvaluation();
        builder.Services.AddSingleton<BusRecorder>();
        builder.Services.AddConsumeObserver<HandledMessageObserver>();
        // Start returns once every endpoint's queues and bindings exist, so nothing a test publishes is unroutable.
        builder.Services.Configure<MassTransitHostOptions>(host => host.WaitUntilStarted = true);

        var host = builder.Build();
        await host.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        return new PipelineHost(host);
    }

    public T Get<T>()
        where T : notnull => _host.Services.GetRequiredService<T>();

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(TimeSpan.FromSeconds(30));
        _host.Dispose();
    }
}

/// <summary>Writes the services' log lines to the test's output (shown when a test fails).</summary>
internal sealed class TestOutputLoggerProvider(ITestOutputHelper output) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new TestOutputLogger(output, categoryName);

    public void Dispose()
    {
    }

    private sealed class TestOutputLogger(ITestOutputHelper output, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            try
            {
                output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}");
            }
            catch (InvalidOperationException)
            {
                // the test has finished: nowhere to write
            }
        }
    }
}
