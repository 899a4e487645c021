using MassTransit;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.Hosting;

namespace Pipeline.DenoiseWorker.Jobs;

/// <summary>
/// The job queue: competing consumers (every worker reads "denoise-series"), broker priorities so urgent
/// drops overtake a bulk backlog, jobs in flight from DenoiseWorker:ConcurrentJobs. MassTransit makes an endpoint's
/// prefetch its concurrent message limit (not the bus-wide Bus:PrefetchCount), so no job waits unacknowledged behind
/// another one's whole time budget, where the broker's consumer_timeout would already be running for it.
/// </summary>
internal sealed class DenoiseSeriesConsumerDefinition : ConsumerDefinition<DenoiseSeriesConsumer>
{
    public const string QueueName = PipelineQueues.DenoiseJobs;

    public DenoiseSeriesConsumerDefinition(IOptions<DenoiseWorkerOptions> options)
    {
        EndpointName = QueueName;
        ConcurrentMessageLimit = options.Value.ConcurrentJobs;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<DenoiseSeriesConsumer> consumerConfigurator, IRegistrationContext context)
    {
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
            rabbit.SetQueueArgument("x-max-priority", (int)JobPriority.Urgent);
    }
}
