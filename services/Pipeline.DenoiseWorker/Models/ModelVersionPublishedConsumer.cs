using MassTransit;
using Microsoft.Extensions.Logging;
using Pipeline.Contracts;
using Pipeline.Denoising.Models;

namespace Pipeline.DenoiseWorker.Models;

/// <summary>
/// Every worker (its own temporary queue) opens a newly promoted version as soon as it is announced:
/// fetched, verified against the manifest and against the hashes in the message, and ready before the
/// first job that names it. A version that does not verify is refused: logged, the versions already open stay in
/// use, and the message faults (error queue).
/// </summary>
internal sealed partial class ModelVersionPublishedConsumer(LoadedModels models, ILogger<ModelVersionPublishedConsumer> logger)
    : IConsumer<ModelVersionPublished>
{
    public async Task Consume(ConsumeContext<ModelVersionPublished> context)
    {
        var published = context.Message;
        try
        {
            using var lease = await models.AcquireAsync(published.ModelVersion, context.CancellationToken, published);
            LogReady(logger, published.ModelVersion, lease.Device);
        }
        catch (ModelIntegrityException e)
        {
            LogRefused(logger, published.ModelVersion, e.Message);
            throw;
        }
    }

    [LoggerMessage(2301, LogLevel.Information, "Published model version {Version} verified and ready on {Device}")]
    private static partial void LogReady(ILogger logger, string version, string device);

    [LoggerMessage(2302, LogLevel.Error, "Published model version {Version} refused, the versions already loaded stay in use: {Reason}")]
    private static partial void LogRefused(ILogger logger, string version, string reason);
}

/// <summary>One temporary queue per worker process, so each worker hears every announcement.</summary>
internal sealed class ModelVersionPublishedConsumerDefinition : ConsumerDefinition<ModelVersionPublishedConsumer>
{
    public ModelVersionPublishedConsumerDefinition() =>
        Endpoint(e =>
        {
            e.InstanceId = $"{Environment.MachineName}-{Environment.ProcessId}".ToLowerInvariant();
            e.Temporary = true;
        });
}
