using MassTransit;
using Pipeline.Contracts;

namespace Pipeline.DenoiseWorker.Jobs;

/// <summary>
/// The job queue: competing consumers (every worker reads "denoise-series"), broker priorities so urgent
/// drops overtake a bulk backlog, prefetch and concurrency from the "Bus" settings.
/// </summary>
public sealed class DenoiseSeriesConsumerDefinition : ConsumerDefinition<DenoiseSeriesConsumer>
{
    public const string QueueName = "denoise-series";

    public DenoiseSeriesConsumerDefinition() => EndpointName = QueueName;

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<DenoiseSeriesConsumer> consumerConfigurator, IRegistrationContext context)
    {
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
            rabbit.SetQueueArgument("x-max-priority", (int)JobPriority.Urgent);
    }
}
