using MassTransit;
using Pipeline.Contracts;

namespace Pipeline.TrainingCoordinator;

/// <summary>
/// Starts a training run (or records the request as skipped while another run holds the lease) and acknowledges at once:
/// the run goes on in the background for hours, far past the broker's consumer timeout, and is resumable on its own.
/// </summary>
internal sealed class RetrainRequestedConsumer(RetrainRunner runner) : IConsumer<RetrainRequested>
{
    public const string EndpointName = "training-retrain";

    public async Task Consume(ConsumeContext<RetrainRequested> context) => await runner.RequestAsync(context.Message, context.CancellationToken);
}

/// <summary>Names the endpoint; retry comes from the "Bus" settings.</summary>
internal sealed class RetrainRequestedConsumerDefinition : ConsumerDefinition<RetrainRequestedConsumer>
{
    public RetrainRequestedConsumerDefinition() => EndpointName = RetrainRequestedConsumer.EndpointName;
}
