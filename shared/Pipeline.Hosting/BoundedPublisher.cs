using MassTransit;

namespace Pipeline.Hosting;

/// <summary>
/// Publishes bounded by <see cref="BusOptions.PublishTimeout"/>. A publish caught by a broker restart can wait for its
/// confirm forever (the RabbitMQ client loses it, and MassTransit waits on it): unbounded, it would stall ingest's one
/// loop, or hold a consumer's concurrency slot, for good. Bounded, it throws: ingest's loop publishes the series again at
/// its next pass, a consumer's message is retried (a late copy of a job or an announcement is handled without new work).
/// </summary>
public sealed class BoundedPublisher(IPublishEndpoint publisher, TimeSpan timeout, TimeProvider clock)
{
    public Task PublishAsync<T>(T message, CancellationToken ct, Action<PublishContext<T>>? configure = null)
        where T : class =>
        (configure is null ? publisher.Publish(message, ct) : publisher.Publish(message, configure, ct)).WaitAsync(timeout, clock, ct);
}
