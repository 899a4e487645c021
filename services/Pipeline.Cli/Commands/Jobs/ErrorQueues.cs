using System.Text.Json;
using Pipeline.Hosting;
using RabbitMQ.Client;

namespace Pipeline.Cli.Commands.Jobs;

/// <summary>A message moved from an error queue back to its work queue.</summary>
internal sealed record MovedMessage(string Queue, string? SeriesInstanceUid);

/// <summary>
/// The services' error queues over plain AMQP (no management plugin needed). A passive declare gives a queue's message
/// count. Moving messages back takes them with basic.get unacknowledged, publishes each selected one (body and properties
/// unchanged, MassTransit's fault headers dropped) to its work queue with a publisher confirm, then acknowledges it; the
/// ones not selected go back to the error queue when the channel closes. A crash between publish and ack leaves a copy in
/// both queues: the job runs again, which is harmless (jobs are idempotent).
/// </summary>
internal sealed class ErrorQueues(IConnection connection) : IAsyncDisposable
{
    public static async Task<ErrorQueues> ConnectAsync(RabbitMqOptions broker, CancellationToken ct) =>
        new(await broker.ConnectionFactory("pipeline jobs").CreateConnectionAsync(ct));

    /// <summary>Messages in each work queue's error queue (0 when it does not exist: MassTransit creates it at the first fault).</summary>
    public async Task<IReadOnlyDictionary<string, uint>> CountAsync(CancellationToken ct)
    {
        var counts = new Dictionary<string, uint>();
        foreach (var queue in PipelineQueues.All)
            counts[PipelineQueues.ErrorQueue(queue)] = await QueueDepth.OfAsync(connection, PipelineQueues.ErrorQueue(queue), ct);
        return counts;
    }

    /// <summary>Moves every error-queue message whose series <paramref name="select"/> accepts back to its work queue.</summary>
    public async Task<IReadOnlyList<MovedMessage>> MoveBackAsync(Func<string?, bool> select, CancellationToken ct)
    {
        var moved = new List<MovedMessage>();
        foreach (var (errorQueue, count) in await CountAsync(ct))
        {
            if (count == 0) continue;
            var queue = errorQueue[..^"_error".Length];
            await using var channel = await connection.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);
            // Unacknowledged messages are not handed out again on this channel, so this ends after each message was seen once.
            while (await channel.BasicGetAsync(errorQueue, autoAck: false, ct) is { } message)
            {
                var series = SeriesOf(message.Body);
                if (!select(series)) continue;
                var properties = new BasicProperties(message.BasicProperties)
                {
                    Headers = message.BasicProperties.Headers?
                        .Where(h => !h.Key.StartsWith("MT-Fault-", StringComparison.Ordinal) && h.Key != "MT-Reason")
                        .ToDictionary(h => h.Key, h => h.Value),
                };
                await channel.BasicPublishAsync("", queue, mandatory: false, properties, message.Body, ct);
                await channel.BasicAckAsync(message.DeliveryTag, multiple: false, ct);
                moved.Add(new MovedMessage(queue, series));
            }
        }
        return moved;
    }

    /// <summary>The series a MassTransit envelope's message is about ("message": {"seriesInstanceUid": ...}), if any.</summary>
    private static string? SeriesOf(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var envelope = JsonDocument.Parse(body);
            if (!envelope.RootElement.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.Object) return null;
            foreach (var property in message.EnumerateObject())
                if (property.Name.Equals("SeriesInstanceUid", StringComparison.OrdinalIgnoreCase))
                    return property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
            return null;
        }
        catch (JsonException)
        {
            return null; // a body that never deserialized: moved only by --all
        }
    }

    public async ValueTask DisposeAsync() => await connection.DisposeAsync();
}
