using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Pipeline.Faults;

/// <summary>
/// The broker stopped mid-run (SIGTERM: an orderly shutdown, as a host reboot or an upgrade does), down ~10 s, and
/// started again on the same data dir, under ingest, two denoise workers and evaluation as separate processes. The
/// broker is this test's own (start.sh in a temp state dir): the shared one serves other tests meanwhile.
/// What happens to messages in flight (RabbitMQ 3.10, MassTransit 8 defaults, which the services keep): every queue is
/// a durable classic queue and every message is published persistent with publisher confirms, so
/// - messages waiting in a queue are on disk and are there again after the restart;
/// - a message delivered but not yet acknowledged (a job a worker is running) goes back to its queue when the
///   connection closes and is delivered again (redelivered flag set) after the restart; the worker that ran it cannot
///   acknowledge it any more, so its series is done again by whoever gets it, or acknowledged without work when its
///   marker is already written (the same keys and bytes either way);
/// - a publish caught by the restart may never return (the RabbitMQ client loses its confirm, MassTransit waits on it):
///   this test found ingest's one loop stuck so, 16 of 20 series done and nothing more for 180 s. Ingest now bounds every
///   publish (Bus:PublishTimeout; 5 s here): it throws, the series stays unpublished, and the loop publishes it again
///   5 s later; a worker's or evaluation's consume whose publish fails fails its message, which is redelivered;
/// - the services' connections come back by themselves (MassTransit reconnects) with their queues and bindings.
/// Quorum queues would add replication across nodes (a node lost for good); on one node they promise nothing more,
/// and the job queue needs broker priorities (x-max-priority), which classic queues have and 3.10's quorum queues lack.
/// </summary>
[Collection(TestServersCollection.Name)]
public sealed class BrokerRestartTests(TestServers servers, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Requirement_a_broker_restarted_mid_run_on_its_data_dir_costs_no_series_and_no_duplicate_output()
    {
        await FaultRun.ReferenceAsync(servers, output);
        await using var broker = await PrivateServers.StartAsync();
        await using var scope = await PipelineScope.CreateAsync(broker.Servers);
        await using var run = new FaultRun(scope, output);
        var processes = await Task.WhenAll(run.StartAsync("ingest"), run.StartAsync("evaluation"), run.StartAsync("worker-1"), run.StartAsync("worker-2"));

        var drop = run.DropAsync(TimeSpan.FromMilliseconds(400));
        await run.WaitForLogAsync("worker", " denoised: ", 3);
        await broker.StopBrokerAsync();
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} broker stopped, {await run.ReportedAsync()} series reported");
        await Task.Delay(TimeSpan.FromSeconds(10));
        await broker.StartBrokerAsync();
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} broker started again");

        await drop;
        await run.WaitDoneAsync(Patience, broker.Servers);
        await run.AssertDoneExactlyOnceAsync(broker.Servers);
        // Nobody died of it: the same four processes did the whole run.
        Assert.All(processes, p => Assert.False(p.HasExited, $"{p.Name} exited"));
    }
}
