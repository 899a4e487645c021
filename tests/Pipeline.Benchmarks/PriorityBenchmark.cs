using System.Diagnostics;
using System.Globalization;
using Pipeline.Contracts;
using Pipeline.Hosting;
using Pipeline.Testing;
using RabbitMQ.Client;

namespace Pipeline.Benchmarks;

/// <summary>
/// Urgent ahead of a bulk backlog: ingest and ONE denoise worker as processes on the real RabbitMQ and S3 server of
/// `infra/test-servers/start.sh`. A bulk backlog (ingest's default priority Bulk) is queued while the worker is stopped,
/// then the worker starts draining it and one series is dropped under an urgent prefix. Prints the urgent series'
/// drop-to-marker time, the bulk jobs that finished before it, the backlog's total time and their ratio.
/// `priority [--series 250] [--slices 4] [--settings .test-servers/settings.json]` (series of the bulk backlog).
/// </summary>
public sealed class PriorityBenchmark : IBenchmark
{
    public string Name => "priority";

    public string Description => "an urgent series dropped behind 1,000 queued bulk slices (one worker): its drop-to-marker time vs the backlog's";

    public async Task<int> RunAsync(string[] args)
    {
        var count = Arguments.Int(args, "series", 250);
        var slices = Arguments.Int(args, "slices", 4);
        if (await ServerSettings.LoadAsync(args) is not { } servers) return 1;
        var id = Guid.NewGuid().ToString("N")[..8];
        var settings = SoakBenchmark.Settings(servers, id);
        settings["Ingest:DefaultPriority"] = nameof(JobPriority.Bulk);
        settings["Ingest:UrgentPrefixes:0"] = "urgent/";
        var store = servers.Store();
        var (input, output) = (settings["Ingest:InputBucket"]!, settings["Storage:OutputBucket"]!);
        await store.EnsureBucketAsync(input);

        var made = SoakBenchmark.MakeSeries(count + 1, slices);
        var (bulk, urgent) = (made[..count], made[count] with { Prefix = "urgent/s0000/" });
        Console.WriteLine(F($"bulk backlog {count} series x {slices} slices ({count * slices} slices), then 1 urgent series of {slices}; ingest and 1 worker (1 engine thread, 1 job, prefetch 1) as processes; load average {PyTorchComparisonBenchmark.LoadAverage()}"));

        var factory = new ConnectionFactory
        {
            HostName = servers.RabbitMq.Host, Port = servers.RabbitMq.Port, VirtualHost = servers.RabbitMq.VirtualHost,
            UserName = servers.RabbitMq.Username, Password = servers.RabbitMq.Password,
        };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        async Task<uint> QueuedAsync() => (await channel.QueueDeclarePassiveAsync(PipelineQueues.DenoiseJobs)).MessageCount;

        ServiceProcess StartWorker() => ServiceProcess.Start("worker", "Pipeline.DenoiseWorker",
            new Dictionary<string, string?>(settings) { ["ModelRegistry:CacheFolder"] = Path.Combine(Path.GetTempPath(), $"priority-{id}-worker") });
        List<ServiceProcess> processes = [];
        try
        {
            // The worker declares its priority queue and binds it; stopped, it leaves the queue to fill with the backlog.
            var worker = StartWorker();
            processes.Add(worker);
            await worker.WaitReadyAsync(TimeSpan.FromMinutes(2));
            await worker.StopAsync(TimeSpan.FromSeconds(30));
            var before = await QueuedAsync();

            var ingest = ServiceProcess.Start("ingest", "Pipeline.Ingest", new Dictionary<string, string?>(settings) { ["ModelRegistry:CacheFolder"] = Path.Combine(Path.GetTempPath(), $"priority-{id}-ingest") });
            processes.Add(ingest);
            await ingest.WaitReadyAsync(TimeSpan.FromMinutes(2));
            var queueing = Stopwatch.StartNew();
            foreach (var one in bulk) await SoakBenchmark.DropAsync(store, input, one);
            while (await QueuedAsync() - before < count)
            {
                if (queueing.Elapsed > TimeSpan.FromMinutes(15)) throw new TimeoutException($"only {await QueuedAsync() - before} of {count} bulk jobs queued");
                await Task.Delay(1000);
            }
            Console.WriteLine(F($"backlog queued: {count} bulk jobs in {queueing.Elapsed.TotalSeconds:F1} s ({before} already in the queue)"));

            worker = StartWorker();
            processes.Add(worker);
            var draining = DateTimeOffset.UtcNow; // the worker consumes as soon as its bus starts
            await worker.WaitReadyAsync(TimeSpan.FromMinutes(2));
            await SoakBenchmark.DropAsync(store, input, urgent);
            var dropped = DateTimeOffset.UtcNow;
            var urgentMarker = (await SoakBenchmark.WaitForMarkersAsync(store, output, [urgent], TimeSpan.FromMinutes(30))).Values.Single();
            while (await QueuedAsync() > 0) await Task.Delay(2000); // one read of the markers at the end: polling them loads s3rver
            var markers = await SoakBenchmark.WaitForMarkersAsync(store, output, bulk, TimeSpan.FromMinutes(5));

            var latency = (urgentMarker.CompletedAt - dropped).TotalSeconds;
            var ahead = markers.Values.Count(m => m.CompletedAt < urgentMarker.CompletedAt);
            var afterDrop = markers.Values.Count(m => m.CompletedAt > dropped && m.CompletedAt < urgentMarker.CompletedAt);
            var backlog = (markers.Values.Max(m => m.CompletedAt) - draining).TotalSeconds;
            var perJob = backlog / (markers.Count + 1);
            Console.WriteLine(F($"urgent series drop -> marker: {latency:F1} s ({latency / perJob:F1} jobs' time at {perJob:F2} s per job); worker ready {(dropped - draining).TotalSeconds:F1} s after it started draining"));
            Console.WriteLine(F($"bulk jobs finished before it: {ahead} ({afterDrop} of them after the urgent drop) of {count}"));
            // Most of the latency is ingest's: its listing interval and quiet period pass before the job is published.
            var began = urgentMarker.CompletedAt - TimeSpan.FromSeconds(urgentMarker.Timings.Values.Sum());
            Console.WriteLine(F($"urgent job began {(began - dropped).TotalSeconds:F1} s after the drop (ingest: {settings["Ingest:ReconcileInterval"]} listing, {settings["Ingest:QuietPeriod"]} quiet period) and ran {urgentMarker.Timings.Values.Sum():F1} s; bulk jobs finished while it ran: {markers.Values.Count(m => m.CompletedAt > began && m.CompletedAt < urgentMarker.CompletedAt)}"));
            Console.WriteLine(F($"backlog total (worker start -> last bulk marker): {backlog:F1} s for {markers.Count} jobs ({markers.Count * slices / backlog:F1} slices/s)"));
            Console.WriteLine(F($"ratio urgent latency / backlog time: {latency / backlog:F3}; lost bulk series: {count - markers.Count}"));
            return markers.Count == count ? 0 : 1;
        }
        finally
        {
            foreach (var process in processes)
            {
                if (!process.HasExited)
                    try { await process.StopAsync(TimeSpan.FromSeconds(30)); } catch (TimeoutException) { }
                await process.DisposeAsync();
            }
        }
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
