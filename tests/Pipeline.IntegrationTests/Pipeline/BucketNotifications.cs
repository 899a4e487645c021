using System.Globalization;
using System.Text.Json;
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
        var body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            EventName = "s3:ObjectCreated:Put",
            Key = $"{created.Bucket}/{created.Key}",
            Records = new[]
            {
                new
                {
                    eventVersion = "2.0",
                    eventSource = "minio:s3",
                    awsRegion = "",
                    eventTime = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
                    eventName = "s3:ObjectCreated:Put",
                    userIdentity = new { principalId = "minioadmin" },
                    s3 = new
                    {
                        s3SchemaVersion = "1.0",
                        configurationId = "Config",
                        bucket = new { name = created.Bucket, ownerIdentity = new { principalId = "minioadmin" }, arn = $"arn:aws:s3:::{created.Bucket}" },
                        @object = new { key = Uri.EscapeDataString(created.Key), size, eTag = etag, contentType = "application/octet-stream", sequencer },
                    },
                },
            },
        });
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
