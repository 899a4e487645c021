using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Pipeline.DenoiseWorker.Intake;
using Pipeline.DenoiseWorker.Jobs;
using Pipeline.DenoiseWorker.Models;
using Pipeline.Denoising.Models;
using Pipeline.Hosting;
using Pipeline.Registry;

namespace Pipeline.DenoiseWorker;

/// <summary>Wires the denoise worker into a host (its own process, or the embedded all-in-one host).</summary>
public static class DenoiseWorkerRegistration
{
    /// <summary>Bus side: the job consumer, the fault recorder and the model announcements.</summary>
    public static void AddDenoiseWorkerConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<DenoiseSeriesConsumer, DenoiseSeriesConsumerDefinition>();
        bus.AddConsumer<DenoiseJobFaultConsumer>();
        bus.AddConsumer<ModelVersionPublishedConsumer, ModelVersionPublishedConsumerDefinition>();
    }

    /// <summary>Service side: settings, the model registry and the loaded model versions.</summary>
    public static IHostApplicationBuilder AddDenoiseWorker(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<DenoiseWorkerOptions>(DenoiseWorkerOptions.Section);
        builder.AddObjectLimits();
        builder.AddModelRegistry();
        builder.AddRetention<ModelCacheRetention>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<LoadedModels>();
        builder.Services.AddDiskWatermark();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DiskWatermark>());
        builder.Services.AddPermanentFailure<ModelIntegrityException>(); // a version that does not verify will not verify on a retry
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<DenoiseWorkerOptions>>((host, worker) => host.ShutdownTimeout = worker.Value.ShutdownTimeout);
        builder.Services.AddOptions<MassTransitHostOptions>().Configure<IOptions<DenoiseWorkerOptions>>((bus, worker) => bus.StopTimeout = worker.Value.ShutdownTimeout);
        return builder;
    }

    /// <summary>The disk watermark on the job endpoint (its checks run as a hosted service in a host).</summary>
    internal static IServiceCollection AddDiskWatermark(this IServiceCollection services)
    {
        services.TryAddSingleton<IFreeSpaceProbe, DriveFreeSpace>();
        services.AddSingleton<DiskWatermark>();
        services.AddReceiveEndpointObserver(sp => sp.GetRequiredService<DiskWatermark>());
        return services;
    }
}
