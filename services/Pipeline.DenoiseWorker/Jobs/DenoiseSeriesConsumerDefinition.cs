using MassTransit;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.Hosting;

namespace Pipeline.DenoiseWorker.Jobs;

/// <summary>
/// The job queue: competing consumers (every worker reads "denoise-series"), broker priorities so urgent
/// drops overtake a bulk backlog, jobs in flight and prefetch both from DenoiseWorker:ConcurrentJobs.
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
        {
            rabbit.SetQueueArgument("x-max-priority", (int)JobPriority.Urgent);
            // A prefetched job waiting for a free slot would count against the broker's consumer_timeout while another
            // job runs its whole time budget: take only as many as run at once (the bus-wide prefetch is for small messages).
            rabbit.PrefetchCount = ConcurrentMessageLimit ?? 1;
        }
    }
}
