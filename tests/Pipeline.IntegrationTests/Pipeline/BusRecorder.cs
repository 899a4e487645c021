using System.Collections.Concurrent;
using MassTransit;
using Pipeline.Contracts;

namespace Pipeline.IntegrationTests.Pipeline;

/// <summary>
/// Every pipeline message of the recorded types that went through the broker, as copies taken from queues of the
/// recorder's own (bound to the message-type exchanges like any other subscriber): what the services published,
/// counted by the broker's fan-out, not by the services' own bookkeeping.
/// </summary>
public sealed class BusRecorder
{
    private readonly ConcurrentDictionary<Type, ConcurrentQueue<object>> _messages = new();
    private readonly ConcurrentDictionary<Type, int> _handled = new();

    /// <summary>Adds one recording consumer per type, each on its queue "it-recorder-{type}".</summary>
    public static void AddRecordingConsumers(IBusRegistrationConfigurator bus)
    {
        Add<DenoiseSeries>(bus);
        Add<SeriesDenoised>(bus);
        Add<EvaluationCompleted>(bus);
        Add<InstanceFailed>(bus);
        Add<SeriesNotDenoisable>(bus);
    }

    private static void Add<T>(IBusRegistrationConfigurator bus)
        where T : class =>
        bus.AddConsumer<RecordingConsumer<T>>().Endpoint(e => e.Name = "it-recorder-" + KebabCaseEndpointNameFormatter.Instance.SanitizeName(typeof(T).Name));

    public IReadOnlyList<T> All<T>()
        where T : class =>
        _messages.TryGetValue(typeof(T), out var queue) ? queue.OfType<T>().ToList() : [];

    internal void Record<T>(T message)
        where T : class =>
        _messages.GetOrAdd(typeof(T), _ => new ConcurrentQueue<object>()).Enqueue(message);

    /// <summary>Messages of a type the services' own consumers have finished with (consumed or faulted).</summary>
    public int Handled<T>() => _handled.GetValueOrDefault(typeof(T));

    internal void CountHandled(Type messageType) => _handled.AddOrUpdate(messageType, 1, (_, n) => n + 1);

    /// <summary>Waits until the services' consumers have finished with at least <paramref name="count"/> messages of a type.</summary>
    public async Task WaitForHandledAsync<T>(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Handled<T>() < count)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"waited {timeout.TotalSeconds:F0} s for the services to handle {count} {typeof(T).Name}, saw {Handled<T>()}");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> messages of a type arrived; throws naming what was seen on timeout.</summary>
    public async Task<IReadOnlyList<T>> WaitForAsync<T>(int count, TimeSpan timeout)
        where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (All<T>().Count < count)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"waited {timeout.TotalSeconds:F0} s for {count} {typeof(T).Name}, saw {All<T>().Count} ({Summary()})");
            await Task.Delay(100);
        }
        return All<T>();
    }

    /// <summary>Counts per message type, for failure messages.</summary>
    public string Summary() => string.Join(", ", _messages.Select(m => $"{m.Key.Name}: {m.Value.Count}"));
}

/// <summary>Stores each message it receives in the <see cref="BusRecorder"/>.</summary>
public sealed class RecordingConsumer<T>(BusRecorder recorder) : IConsumer<T>
    where T : class
{
    public Task Consume(ConsumeContext<T> context)
    {
        recorder.Record(context.Message);
        return Task.CompletedTask;
    }
}

/// <summary>Counts the messages the services' consumers finished with (every endpoint but the recorder's own).</summary>
public sealed class HandledMessageObserver(BusRecorder recorder) : IConsumeObserver
{
    public Task PreConsume<T>(ConsumeContext<T> context)
        where T : class => Task.CompletedTask;

    public Task PostConsume<T>(ConsumeContext<T> context)
        where T : class => Count<T>(context);

    public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception)
        where T : class => Count<T>(context);

    private Task Count<T>(ConsumeContext<T> context)
        where T : class
    {
        if (!(context.ReceiveContext.InputAddress?.AbsolutePath.Contains("it-recorder-", StringComparison.Ordinal) ?? false))
            recorder.CountHandled(typeof(T));
        return Task.CompletedTask;
    }
}
