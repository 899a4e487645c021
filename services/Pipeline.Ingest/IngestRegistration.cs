using System.Diagnostics.Metrics;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Hosting;
using Pipeline.Ingest.Batches;
using Pipeline.Storage;
using Pipeline.Ingest.Notifications;
using Pipeline.Registry;

namespace Pipeline.Ingest;

/// <summary>Wires the ingest service into a host (its own process, or the embedded all-in-one host).</summary>
public static class IngestRegistration
{
    /// <summary>Bus side: the consumers of the object store's bucket notifications and of batch submissions.</summary>
    public static void AddIngestConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<BucketNotificationConsumer, BucketNotificationConsumerDefinition>();
        bus.AddConsumer<SubmitBatchConsumer>();
    }

    /// <summary>Service side: settings, the ingest loop and its state.</summary>
    public static IHostApplicationBuilder AddIngest(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<IngestOptions>(IngestOptions.Section);
        builder.AddObjectLimits();
        builder.AddModelRegistry();
        builder.AddRetention<OutputBucketRetention>(); // one sweeper of the output bucket per deployment
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IngestInbox>();
        builder.Services.AddSingleton<IngestProcessor>();
        builder.Services.AddSingleton<IngestWorker>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<IngestWorker>());
        builder.Services.AddSingleton(sp => new BatchRunner(o => ActivatorUtilities.CreateInstance<IngestProcessor>(sp, Options.Create(o)),
            sp.GetRequiredService<IObjectStore>(), sp.GetRequiredService<IOptions<IngestOptions>>(), sp.GetRequiredService<IOptions<StorageOptions>>(),
            new BatchGauges(sp.GetRequiredService<IMeterFactory>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<IngestOptions>>().Value.BatchDeadline),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<BatchRunner>>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<BatchRunner>());
        return builder;
    }
}
