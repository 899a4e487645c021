using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Pipeline.Contracts;
using Pipeline.Dicom;
using Pipeline.Hosting;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Pipeline.Faults;

/// <summary>
/// A series whose work takes longer than the broker's consumer_timeout (lowered to 5 s on this test's own broker: 30 min
/// by default): the worker works on a delivery for at most DenoiseWorker:JobTimeBudget (2 s here), then publishes the
/// rest of the job as a continuation and acknowledges the delivery, so no delivery outlives the timeout, the broker never
/// closes the channel, and no second worker gets the series while the first still works on it.
/// </summary>
[Collection(TestServersCollection.Name)]
public sealed partial class ConsumerTimeoutTests(ITestOutputHelper output)
{
    /// <summary>128 slices on a one-thread engine, one slice per batch: ~40 s of work (18 continuations) on the loaded development machine.</summary>
    private const int Copies = 8;

    [Fact]
    public async Task Requirement_a_series_longer_than_the_consumer_timeout_completes_in_continuations_without_the_channel_closing()
    {
        await using var broker = await PrivateServers.StartAsync();
        // RabbitMQ 3.10 reads these when a channel opens: every service channel gets the 5 s timeout, checked each second.
        await broker.Servers.RabbitMqCtlAsync("eval", "application:set_env(rabbit, consumer_timeout, 5000), application:set_env(rabbit, channel_tick_interval, 1000).");
        await using var scope = await PipelineScope.CreateAsync(broker.Servers);
        await using var run = new FaultRun(scope, output);
        var settings = run.Settings("worker-1");
        settings["DenoiseWorker:BatchSize"] = "1";
        settings["DenoiseWorker:JobTimeBudget"] = "00:00:02";
        settings["Bus:PrefetchCount"] = "4"; // the bus-wide prefetch; the job queue must not take more than it runs (1)
        // No evaluation: its own delivery of a 128-slice series would outlive this lowered timeout (the worker's is under test).
        var services = await Task.WhenAll(run.StartAsync("ingest"), run.StartAsync("worker-1", settings));
        var worker = services[1];

        // No job waits unacknowledged behind another: the job consumer's prefetch is DenoiseWorker:ConcurrentJobs
        // (MassTransit sets an endpoint's prefetch to its concurrent message limit, whatever Bus:PrefetchCount says).
        var consumers = await broker.Servers.RabbitMqCtlAsync("list_consumers", "-p", scope.VirtualHost, "--quiet", "--no-table-headers", "queue_name", "prefetch_count");
        output.WriteLine($"consumers (queue, prefetch):\n{consumers}");
        Assert.Contains($"{PipelineQueues.DenoiseJobs}\t1", consumers.Split('\n', StringSplitOptions.TrimEntries));

        var watch = Stopwatch.StartNew();
        var (study, series, instances) = await DropLongSeriesAsync(scope);
        var markerKey = BucketLayout.CompletionMarker(study, series, FaultRun.ModelVersion);
        while (!(await scope.KeysAsync(scope.OutputBucket, "studies/")).Contains(markerKey))
        {
            if (watch.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException("the long series was not done within 2 min");
            await Task.Delay(500);
        }
        output.WriteLine($"done after {watch.Elapsed.TotalSeconds:F1} s");
        await Task.Delay(TimeSpan.FromSeconds(3)); // the broker's timeout check runs each second: a late close would show

        var all = await scope.ReadAllAsync(scope.OutputBucket);
        Assert.DoesNotContain(all.Keys, BucketLayout.IsFailureRecord);
        var marker = JsonSerializer.Deserialize<SeriesCompletion>(all[markerKey])!;
        Assert.Equal((1, instances, 0), (marker.Revision, marker.Instances.Count, marker.FailedInstances.Count));
        Assert.Equal(marker.Instances.Select(i => i.Derived.Key).Order(StringComparer.Ordinal),
            all.Keys.Where(k => k.StartsWith(BucketLayout.DerivedInstancesFolder(study, series, FaultRun.ModelVersion), StringComparison.Ordinal)));

        // Several deliveries, each instance denoised by exactly one of them.
        var lines = worker.Lines.ToList();
        var continued = lines.Select(l => Continued().Match(l)).Where(m => m.Success).ToList();
        var done = Assert.Single(lines, l => l.Contains(" denoised: ", StringComparison.Ordinal));
        Assert.True(continued.Count >= 2, $"{continued.Count} continuations");
        var denoised = continued.Sum(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))
            + int.Parse(Finished().Match(done).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal(instances, denoised);

        // The broker never timed out a delivery, so never closed a channel, and nothing is left in any queue.
        const string timedOut = "delivery acknowledgement";
        Assert.DoesNotContain(lines, l => l.Contains(timedOut, StringComparison.Ordinal));
        Assert.DoesNotContain(Directory.GetFiles(broker.BrokerLogFolder, "*.log").SelectMany(File.ReadLines), l => l.Contains(timedOut, StringComparison.Ordinal));
        var queues = await run.QueuesAsync(broker.Servers);
        Assert.All(queues, q => Assert.Equal(0, q.Ready + q.Unacked));
        Assert.DoesNotContain(queues, q => q.Name.EndsWith("_error", StringComparison.Ordinal));
        Assert.False(worker.HasExited);
    }

    /// <summary>The 16 noisy sample slices, <see cref="Copies"/> times along the axis, as one series with UIDs of its own.</summary>
    private static async Task<(string Study, string Series, int Instances)> DropLongSeriesAsync(PipelineScope scope)
    {
        var (study, series) = (DicomUid.FromNames("consumer-timeout-study"), DicomUid.FromNames("consumer-timeout-series"));
        var sample = PipelineScope.SampleSeries("t1-noisy", 16);
        var count = 0;
        for (var copy = 0; copy < Copies; copy++)
        {
            for (var s = 0; s < sample.Length; s++)
            {
                var file = DicomFile.Open(sample[s]);
                var position = file.Dataset.GetString(DicomTags.ImagePositionPatient)!.Split('\\').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                position[2] += copy * 1000; // further along the axis: distinct slices
                var n = copy * sample.Length + s;
                file.Dataset.SetString(DicomTags.StudyInstanceUID, study).SetString(DicomTags.SeriesInstanceUID, series)
                    .SetString(DicomTags.SOPInstanceUID, DicomUid.FromNames("consumer-timeout-instance", n.ToString(CultureInfo.InvariantCulture)))
                    .SetString(DicomTags.InstanceNumber, (n + 1).ToString(CultureInfo.InvariantCulture))
                    .SetString(DicomTags.ImagePositionPatient, string.Join('\\', position.Select(v => v.ToString(CultureInfo.InvariantCulture))));
                using var bytes = new MemoryStream();
                file.Save(bytes);
                await scope.DropAsync($"long/{n:D3}.dcm", bytes.ToArray());
                count++;
            }
        }
        return (study, series, count);
    }

    [GeneratedRegex(@"\((\d+) instances denoised in this delivery")]
    private static partial Regex Continued();

    [GeneratedRegex(@"\((\d+) denoised in this delivery")]
    private static partial Regex Finished();
}
