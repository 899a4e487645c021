using MassTransit;

namespace Pipeline.Ingest;

/// <summary>
/// Ingest's publishes, each bounded by <see cref="IngestOptions.PublishTimeout"/>. A publish caught by a broker restart
/// can wait for its confirm forever (the RabbitMQ client loses it, and MassTransit waits on it), which would stall the
/// one ingest loop for good; bounded, it throws, the loop retries, and the series is published at the next pass (a series
/// counts as published only once its publish returned; a late copy of a job is acknowledged without work).
/// </summary>
internal sealed class BoundedPublisher(IPublishEndpoint publisher, TimeSpan timeout, TimeProvider clock)
{
    public Task PublishAsync<T>(T message, CancellationToken ct, Action<PublishContext<T>>? configure = null)
        where T : class =>
        (configure is null ? publisher.Publish(message, ct) : publisher.Publish(message, configure, ct)).WaitAsync(timeout, clock, ct);
}
