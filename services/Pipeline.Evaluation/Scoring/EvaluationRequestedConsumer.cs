using MassTransit;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.Hosting;

namespace Pipeline.Evaluation.Scoring;

/// <summary>Scores a candidate model version against a baseline on a held-out set and replies with EvaluationCompleted.</summary>
internal sealed class EvaluationRequestedConsumer(ModelScorer scorer, IOptions<BusOptions> bus, TimeProvider clock) : IConsumer<EvaluationRequested>
{
    /// <summary>Own queue: a long scoring run does not hold up series evaluations.</summary>
    public const string EndpointName = PipelineQueues.EvaluationModelScores;

    public async Task Consume(ConsumeContext<EvaluationRequested> context) =>
        await new BoundedPublisher(context, bus.Value.PublishTimeout, clock).PublishAsync(
            await scorer.ScoreAsync(context.Message, context.GetRetryAttempt() + 1, context.CancellationToken), context.CancellationToken);
}

/// <summary>Names the endpoint; prefetch, concurrency and retry come from the "Bus" settings.</summary>
internal sealed class EvaluationRequestedConsumerDefinition : ConsumerDefinition<EvaluationRequestedConsumer>
{
    public EvaluationRequestedConsumerDefinition() => EndpointName = EvaluationRequestedConsumer.EndpointName;
}
