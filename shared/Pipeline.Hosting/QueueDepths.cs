using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Pipeline.Hosting;

/// <summary>
/// Queue depth over plain AMQP: the broker has no management plugin here, and a passive declare answers with a queue's
/// ready-message count. Used by every service's gauges (<see cref="QueueDepthGauges"/>) and the tool's error-queue verbs.
/// </summary>
public static class QueueDepth
{
    /// <summary>A connection factory for <paramref name="broker"/>; <paramref name="clientName"/> shows in the broker's connection list.</summary>
    public static ConnectionFactory ConnectionFactory(this RabbitMqOptions broker, string clientName) => new()
    {
        HostName = broker.Host, Port = broker.Port, VirtualHost = broker.VirtualHost,
        UserName = broker.Username, Password = broker.Password, ClientProvidedName = clientName,
    };

    /// <summary>Messages ready in <paramref name="queue"/>; 0 when it does not exist (MassTransit creates an error queue at the first fault).</summary>
    public static async Task<uint> OfAsync(IConnection connection, string queue, CancellationToken ct)
    {
        // A passive declare of a missing queue closes the channel (404): one channel per queue.
        await using var channel = await connection.CreateChannelAsync(cancellationToken: ct);
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue, ct)).MessageCount;
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            return 0;
        }
    }
}

/// <summary>
/// Gauges pipeline.queue.depth and pipeline.queue.backlog_age for every work queue and its error queue, polled every
/// Bus:QueueDepthInterval. Every service reports them (dashboards take the max per queue), so a backlog stays visible
/// when all consumers of a queue are down. AMQP tells neither a message's enqueue time nor the head's age without
/// taking the message, so the age reported is the time since the queue was last seen empty: an upper bound on its oldest
/// message's age (exact to one interval while one backlog drains; since process start when it was never seen empty).
/// The wait of each consumed message (sent to consumed) is MassTransit's messaging.masstransit.delivery.duration.
/// </summary>
internal sealed partial class QueueDepthGauges : BackgroundService
{
    public const string MeterName = ServiceDefaults.TelemetryPrefix + ".Queues";

    private readonly BusOptions _bus;
    private readonly TimeProvider _clock;
    private readonly ILogger<QueueDepthGauges> _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (uint Depth, DateTimeOffset LastEmpty)> _queues = [];

    public QueueDepthGauges(IOptions<BusOptions> bus, IMeterFactory meters, TimeProvider clock, ILogger<QueueDepthGauges> logger)
    {
        _bus = bus.Value;
        _clock = clock;
        _logger = logger;
        var meter = meters.Create(MeterName);
        meter.CreateObservableGauge("pipeline.queue.depth", () => Observe(q => q.Depth), "{message}",
            "Messages ready in the queue (label queue: a work queue or its _error queue)");
        meter.CreateObservableGauge("pipeline.queue.backlog_age", () => Observe(q => q.Depth == 0 ? 0 : (_clock.GetUtcNow() - q.LastEmpty).TotalSeconds),
            "s", "Seconds since the queue was last seen empty: an upper bound on its oldest message's age (0 when empty)");
    }

    private static IEnumerable<string> Watched => PipelineQueues.All.SelectMany(q => new[] { q, PipelineQueues.ErrorQueue(q) });

    private IEnumerable<Measurement<double>> Observe(Func<(uint Depth, DateTimeOffset LastEmpty), double> value)
    {
        lock (_lock)
            return _queues.Select(q => new Measurement<double>(value(q.Value), new KeyValuePair<string, object?>("queue", q.Key))).ToList();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = _clock.GetUtcNow();
        IConnection? connection = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    connection ??= await _bus.RabbitMq.ConnectionFactory("pipeline queue gauges").CreateConnectionAsync(stoppingToken);
                    foreach (var queue in Watched)
                    {
                        var depth = await QueueDepth.OfAsync(connection, queue, stoppingToken);
                        var now = _clock.GetUtcNow();
                        lock (_lock)
                            _queues[queue] = (depth, depth == 0 ? now : _queues.TryGetValue(queue, out var last) ? last.LastEmpty : started);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The bus's own health check reports a broker outage; the gauges keep their last values.
                    LogPollFailed(_logger, e.GetType().Name);
                    if (connection is not null) await connection.DisposeAsync();
                    connection = null;
                }
                await Task.Delay(_bus.QueueDepthInterval, _clock, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (connection is not null) await connection.DisposeAsync();
        }
    }

    [LoggerMessage(120, LogLevel.Warning, "Queue depth poll failed ({ErrorType}); the next poll tries again")]
    private static partial void LogPollFailed(ILogger logger, string errorType);
}
