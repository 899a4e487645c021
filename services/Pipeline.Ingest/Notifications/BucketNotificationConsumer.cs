using MassTransit;
using Pipeline.Hosting;

namespace Pipeline.Ingest.Notifications;

/// <summary>Marker type for the raw S3 event JSON that the object store publishes to the broker.</summary>
internal sealed record BucketNotification;

/// <summary>
/// Receives the store's bucket notifications (raw S3 event JSON, not a MassTransit envelope) and
/// hands each "object created" record to the ingest loop. A body that is not an S3 event faults
/// and lands in the error queue with the reason.
/// </summary>
internal sealed class BucketNotificationConsumer(IngestInbox inbox) : IConsumer<BucketNotification>
{
    /// <summary>Queue (and exchange) the object store's AMQP target publishes to.</summary>
    public const string EndpointName = PipelineQueues.BucketNotifications;

    public async Task Consume(ConsumeContext<BucketNotification> context)
    {
        foreach (var created in ObjectCreatedEvent.Parse(context.ReceiveContext.Body.GetBytes()))
            await inbox.PostAsync(created, context.CancellationToken);
    }
}

/// <summary>Reads the endpoint's bodies as raw JSON of any shape.</summary>
internal sealed class BucketNotificationConsumerDefinition : ConsumerDefinition<BucketNotificationConsumer>
{
    public BucketNotificationConsumerDefinition() => EndpointName = BucketNotificationConsumer.EndpointName;

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<BucketNotificationConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType, isDefault: true);
        endpointConfigurator.ConfigureConsumeTopology = false;
    }
}
