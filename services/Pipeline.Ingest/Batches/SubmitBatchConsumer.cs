using MassTransit;
using Pipeline.Contracts;

namespace Pipeline.Ingest.Batches;

/// <summary>Hands a batch submission (`pipeline submit`) to the batch runner, which owns the batches.</summary>
internal sealed class SubmitBatchConsumer(BatchRunner batches) : IConsumer<SubmitBatch>
{
    public async Task Consume(ConsumeContext<SubmitBatch> context) => await batches.SubmitAsync(context.Message, context.CancellationToken);
}
