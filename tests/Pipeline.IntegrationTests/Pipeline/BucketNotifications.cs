using System.Globalization;
using Pipeline.Contracts;
using Pipeline.Ingest.Notifications;
using RabbitMQ.Client;

namespace Pipeline.IntegrationTests.Pipeline;

/// <summary>
/// Plays the object store's AMQP notification target: publishes S3 event JSON, shaped as MinIO sends it, raw (no
/// MassTransit envelope) to the "bucket-notifications" exchange of a scope's virtual host.
/// </summary>
public sealed class BucketNotifications : IAsyncDisposable
{
    private readonly IConnection _connection;
    private readonly IChannel _channel;
    private long _sequencer = 0x1700000000000000;

    private BucketNotifications(IConnection connection, IChannel channel) => (_connection, _channel) = (connection, channel);

    public static async Task<BucketNotifications> ConnectAsync(PipelineScope scope)
    {
        var connection = await scope.Servers.RabbitMq.ConnectionFactory(scope.VirtualHost).CreateConnectionAsync();
        return new BucketNotifications(connection, await connection.CreateChannelAsync());
    }

    /// <summary>One "s3:ObjectCreated:Put" record; the key is URL-encoded as MinIO does ('/' as %2F).</summary>
    public async Task PublishObjectCreatedAsync(ObjectRef created, long size, string etag)
    {
        var sequencer = Interlocked.Increment(ref _sequencer).ToString("X16", CultureInfo.InvariantCulture);
        var body = new ObjectCreatedEvent(created, size, etag).ToMinioJson(sequencer);
        var properties = new BasicProperties { ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent };
        await _channel.BasicPublishAsync(BucketNotificationConsumer.EndpointName, "", mandatory: true, properties, body);
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.CloseAsync();
        await _connection.CloseAsync();
        _channel.Dispose();
        _connection.Dispose();
    }
}
