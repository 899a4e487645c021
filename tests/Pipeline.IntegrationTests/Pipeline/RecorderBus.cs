using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pipeline.Hosting;

namespace Pipeline.IntegrationTests.Pipeline;

/// <summary>A bus of the test's own, in a scope's virtual host, holding only the <see cref="BusRecorder"/>'s consumers.</summary>
public sealed class RecorderBus : IAsyncDisposable
{
    private readonly IHost _host;

    private RecorderBus(IHost host) => _host = host;

    public BusRecorder Recorder => _host.Services.GetRequiredService<BusRecorder>();

    /// <summary>The recorder's bus, for a test that sends messages of its own.</summary>
    public IBus Bus => _host.Services.GetRequiredService<IBus>();

    public static async Task<RecorderBus> StartAsync(PipelineScope scope)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "Pipeline.IntegrationTests.Recorder" });
        builder.Configuration.AddInMemoryCollection(scope.Settings());
        builder.AddPipelineBus(BusRecorder.AddRecordingConsumers);
        builder.Services.AddSingleton<BusRecorder>();
        builder.Services.Configure<MassTransitHostOptions>(host => host.WaitUntilStarted = true);
        var host = builder.Build();
        await host.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        return new RecorderBus(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(TimeSpan.FromSeconds(30));
        _host.Dispose();
    }
}
