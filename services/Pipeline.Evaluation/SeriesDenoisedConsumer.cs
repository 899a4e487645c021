using MassTransit;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.Hosting;

namespace Pipeline.Evaluation;

/// <summary>
/// Evaluates each denoised series: report and montage in the output bucket, metrics, then EvaluationCompleted.
/// A series none of whose instances can be read faults (failure record first) and lands in the error queue.
/// </summary>
internal sealed class SeriesDenoisedConsumer(SeriesEvaluator evaluator, IOptions<BusOptions> bus, TimeProvider clock) : IConsumer<SeriesDenoised>
{
    /// <summary>Queue of the evaluation service.</summary>
    public const string EndpointName = PipelineQueues.Evaluation;

    public async Task Consume(ConsumeContext<SeriesDenoised> context)
    {
        var completed = await evaluator.EvaluateAsync(context.Message, context.GetRetryAttempt() + 1, context.CancellationToken);
        if (completed is not null) await new BoundedPublisher(context, bus.Value.PublishTimeout, clock).PublishAsync(completed, context.CancellationToken);
    }
}

/// <summary>Names the endpoint; prefetch, concurrency and retry come from the "Bus" settings.</summary>
internal sealed class SeriesDenoisedConsumerDefinition : ConsumerDefinition<SeriesDenoisedConsumer>
{
    public SeriesDenoisedConsumerDefinition() => EndpointName = SeriesDenoisedConsumer.EndpointName;
}
