using System.Threading.Channels;
using System.Text;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace Pipeline.IntegrationTests.Messaging;

/// <summary>Requirement: services exchange messages through the real RabbitMQ; a consumer that throws sends the
/// message to its "_error" queue with the reason (at-least-once, never silently dropped).</summary>
/// <remarks>The bus is configured here directly with MassTransit; services get theirs from Pipeline.Hosting.</remarks>
[Collection(TestServersCollection.Name)]
public sealed class RabbitMqMessagingTests(TestServers servers)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    // A fresh queue name per test: reused brokers (warm runs) never mix tests' messages.
    private readonly string _queue = "it-" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task A_published_message_reaches_its_consumer_through_RabbitMQ_with_its_payload()
    {
        var inbox = new Inbox();
        await using var provider = BuildBus(inbox, (bus, rabbit, context) =>
        {
            rabbit.ReceiveEndpoint(_queue, endpoint =>
            {
                endpoint.AutoDelete = true; // leaves nothing bound to the exchange after the test
                endpoint.ConfigureConsumer<ProbeConsumer>(context);
            });
        }, bus => bus.AddConsumer<ProbeConsumer>());
        var bus = provider.GetRequiredService<IBusControl>();
        await bus.StartAsync(new CancellationTokenSource(Patience).Token);
        try
        {
            var sent = new ProbeMessage(Guid.NewGuid(), "studies/1.2.840.99/series/7", [3, 1, 4, 1, 5, 9], new DateTimeOffset(2026, 11, 25, 1, 2, 3, TimeSpan.Zero));

            await bus.Publish(sent);

            var received = await inbox.Probes.Reader.ReadAsync(new CancellationTokenSource(Patience).Token);
            Assert.Equal(sent.ProbeId, received.Message.ProbeId);
            Assert.Equal(sent.StudyKey, received.Message.StudyKey);
            Assert.Equal(sent.Numbers, received.Message.Numbers);
            Assert.Equal(sent.SentAt, received.Message.SentAt);

            // It came over the broker, from the queue we declared, not through some in-process shortcut.
            Assert.Equal("rabbitmq", received.InputAddress.Scheme);
            Assert.Equal(servers.RabbitMq.Port, received.InputAddress.Port);
            Assert.Equal(_queue, received.InputAddress.AbsolutePath.Trim('/'));

            // Exactly once: nothing else arrives.
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.False(inbox.Probes.Reader.TryRead(out _), "the message was delivered more than once");
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    [Fact]
    public async Task A_consumer_exception_moves_the_message_to_the_error_queue_and_publishes_a_fault()
    {
        var inbox = new Inbox();
        await using var provider = BuildBus(inbox, (bus, rabbit, context) =>
        {
            // No retry policy: the first exception is final, as for a poison message.
            rabbit.ReceiveEndpoint(_queue, endpoint => endpoint.ConfigureConsumer<PoisonConsumer>(context));
            rabbit.ReceiveEndpoint(_queue + "-faults", endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.ConfigureConsumer<FaultConsumer>(context);
            });
        }, bus =>
        {
            bus.AddConsumer<PoisonConsumer>();
            bus.AddConsumer<FaultConsumer>();
        });
        var bus = provider.GetRequiredService<IBusControl>();
        await bus.StartAsync(new CancellationTokenSource(Patience).Token);
        var sent = new PoisonProbe(Guid.NewGuid(), "pixel data truncated");
        try
        {
            await bus.Publish(sent);

            var fault = await inbox.Faults.Reader.ReadAsync(new CancellationTokenSource(Patience).Token);
            Assert.Equal(sent, fault.Message);
            Assert.Contains(sent.Reason, Assert.Single(fault.Exceptions).Message, StringComparison.Ordinal);
        }
        finally
        {
            await bus.StopAsync();
        }

        // The broker itself holds the message in <queue>_error (rabbitmqctl: no management plugin needed)...
        var errorQueue = _queue + "_error";
        Assert.Equal(1, await QueueDepthAsync(errorQueue));

        // ...with MassTransit's fault headers saying why, and the original body.
        var (body, headers) = await GetOneAsync(errorQueue);
        Assert.Contains(sent.ProbeId.ToString(), body, StringComparison.Ordinal);
        Assert.Contains(sent.Reason, HeaderText(headers, "MT-Fault-Message"), StringComparison.Ordinal);
        Assert.Contains(nameof(InvalidOperationException), HeaderText(headers, "MT-Fault-ExceptionType"), StringComparison.Ordinal);
    }

    private ServiceProvider BuildBus(Inbox inbox, Action<IBusRegistrationConfigurator, IRabbitMqBusFactoryConfigurator, IBusRegistrationContext> endpoints, Action<IBusRegistrationConfigurator> consumers)
    {
        var rabbitMq = servers.RabbitMq;
        return new ServiceCollection()
            .AddSingleton(inbox)
            .AddMassTransit(bus =>
            {
                consumers(bus);
                bus.UsingRabbitMq((context, rabbit) =>
                {
                    rabbit.Host(rabbitMq.Host, (ushort)rabbitMq.Port, rabbitMq.VirtualHost, host =>
                    {
                        host.Username(rabbitMq.Username);
                        host.Password(rabbitMq.Password);
                    });
                    endpoints(bus, rabbit, context);
                });
            })
            .BuildServiceProvider();
    }

    /// <summary>Messages in a queue, as the broker reports them; polled because the count lags the publish.</summary>
    private async Task<int> QueueDepthAsync(string queue)
    {
        var deadline = DateTime.UtcNow + Patience;
        var depth = -1;
        while (DateTime.UtcNow < deadline)
        {
            var listing = await servers.RabbitMqCtlAsync("list_queues", "--quiet", "--no-table-headers", "name", "messages");
            depth = listing.Split('\n')
                .Select(line => line.Split('\t'))
                .Where(columns => columns.Length == 2 && columns[0] == queue)
                .Select(columns => int.Parse(columns[1].Trim(), System.Globalization.CultureInfo.InvariantCulture))
                .DefaultIfEmpty(-1)
                .Single();
            if (depth > 0)
            {
                break;
            }

            await Task.Delay(500);
        }

        return depth;
    }

    /// <summary>Takes one message off a queue with the plain RabbitMQ client (acknowledged, so the queue ends empty).</summary>
    private async Task<(string Body, IDictionary<string, object?> Headers)> GetOneAsync(string queue)
    {
        await using var connection = await servers.RabbitMq.ConnectionFactory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var result = await channel.BasicGetAsync(queue, autoAck: true) ?? throw new InvalidOperationException($"Queue {queue} is empty.");
        return (Encoding.UTF8.GetString(result.Body.Span), result.BasicProperties.Headers ?? new Dictionary<string, object?>());
    }

    private static string HeaderText(IDictionary<string, object?> headers, string name) =>
        headers.TryGetValue(name, out var value) && value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : value?.ToString() ?? "";

    /// <summary>What the consumers saw, for the test to await.</summary>
    private sealed class Inbox
    {
        public Channel<(ProbeMessage Message, Uri InputAddress)> Probes { get; } = Channel.CreateUnbounded<(ProbeMessage, Uri)>();

        public Channel<Fault<PoisonProbe>> Faults { get; } = Channel.CreateUnbounded<Fault<PoisonProbe>>();
    }

    private sealed class ProbeConsumer(Inbox inbox) : IConsumer<ProbeMessage>
    {
        public async Task Consume(ConsumeContext<ProbeMessage> context) =>
            await inbox.Probes.Writer.WriteAsync((context.Message, context.ReceiveContext.InputAddress));
    }

    private sealed class PoisonConsumer : IConsumer<PoisonProbe>
    {
        public Task Consume(ConsumeContext<PoisonProbe> context) =>
            throw new InvalidOperationException($"Cannot process probe: {context.Message.Reason}");
    }

    private sealed class FaultConsumer(Inbox inbox) : IConsumer<Fault<PoisonProbe>>
    {
        public async Task Consume(ConsumeContext<Fault<PoisonProbe>> context) =>
            await inbox.Faults.Writer.WriteAsync(context.Message);
    }
}
