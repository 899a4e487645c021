using Microsoft.Extensions.Configuration;
using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pipeline.Contracts;

namespace Pipeline.Hosting.Tests;

public sealed class InMemoryBusTests
{
    private static readonly ActivitySource TestSource = new("Pipeline.Hosting.Tests");

    [Fact]
    public async Task Embedded_mode_delivers_a_published_job_to_its_consumer_inside_the_same_trace()
    {
        var received = new TaskCompletionSource<(DenoiseSeries Job, ActivityTraceId TraceId)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Bus:Transport"] = "InMemory" });
        builder.Services.AddSingleton(received);
        builder.AddServiceDefaults(bus => bus.AddConsumer<RecordingConsumer>());
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var job = new DenoiseSeries("1.2.3", "1.2.3.4",
                [new ObjectRef("incoming", "s/1.dcm"), new ObjectRef("incoming", "s/2.dcm")],
                "cdae/1", JobPriority.Urgent, "MR");
            ActivityTraceId publishedTrace;
            using (var activity = TestSource.StartActivity("drop study"))
            {
                Assert.NotNull(activity); // the service defaults listen to Pipeline.* sources
                publishedTrace = activity.TraceId;
                await host.Services.GetRequiredService<IPublishEndpoint>().Publish(job);
            }

            var (got, consumedTrace) = await received.Task.WaitAsync(TimeSpan.FromSeconds(20));

            Assert.Equal(job.SeriesInstanceUid, got.SeriesInstanceUid);
            Assert.Equal(job.Instances, got.Instances);
            Assert.Equal(JobPriority.Urgent, got.Priority);
            Assert.Equal(ContractVersion.Current, got.ContractVersion);
            Assert.Equal(publishedTrace, consumedTrace);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    internal sealed class RecordingConsumer(TaskCompletionSource<(DenoiseSeries, ActivityTraceId)> received) : IConsumer<DenoiseSeries>
    {
        public Task Consume(ConsumeContext<DenoiseSeries> context)
        {
            received.TrySetResult((context.Message, Activity.Current?.TraceId ?? default));
            return Task.CompletedTask;
        }
    }
}
