using System.Reflection;
using MassTransit;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Contracts;

namespace Pipeline.Hosting.Tests;

public sealed class BoundedPublisherTests
{
    /// <summary>
    /// Requirement: a publish whose confirm never comes (a broker restart can lose it) fails after Bus:PublishTimeout,
    /// so its caller (ingest's one loop, a consumer's retry) goes on instead of waiting on it for good.
    /// </summary>
    [Fact]
    public async Task A_publish_that_never_returns_fails_after_the_publish_timeout()
    {
        var clock = new FakeTimeProvider();
        var publisher = new BoundedPublisher(DispatchProxy.Create<IPublishEndpoint, NeverConfirmed>(), TimeSpan.FromSeconds(30), clock);

        var publish = publisher.PublishAsync(new IngestPassCompleted("incoming", 1, 1, 0, 1, clock.GetUtcNow()), CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.False(publish.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1));
        await Task.WhenAny(publish, Task.Delay(TimeSpan.FromSeconds(5)));

        Assert.True(publish.IsFaulted, "the publish was still waiting after the publish timeout");
        Assert.IsType<TimeoutException>(publish.Exception!.InnerException);
    }

    /// <summary>A publish endpoint whose every publish waits forever, as one caught by a broker restart does.</summary>
    public class NeverConfirmed : DispatchProxy
    {
        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => new TaskCompletionSource().Task;
    }
}
