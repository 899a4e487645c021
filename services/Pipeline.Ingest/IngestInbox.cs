using System.Threading.Channels;
using Pipeline.Ingest.Notifications;

namespace Pipeline.Ingest;

/// <summary>Hands bucket events from the bus consumer to the single ingest loop, which owns all state.</summary>
internal sealed class IngestInbox
{
    private readonly Channel<ObjectCreatedEvent> _events = Channel.CreateUnbounded<ObjectCreatedEvent>(new UnboundedChannelOptions { SingleReader = true });

    public ValueTask PostAsync(ObjectCreatedEvent created, CancellationToken ct) => _events.Writer.WriteAsync(created, ct);

    public ChannelReader<ObjectCreatedEvent> Reader => _events.Reader;
}
