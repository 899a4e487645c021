using System.Text.Json;
using Pipeline.Storage;
using Pipeline.Contracts;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Pipeline.Faults;

/// <summary>
/// Services SIGKILLed mid-work (a crash, an OOM kill, a lost host: no shutdown code runs) and replaced, with ingest,
/// two denoise workers and evaluation as separate processes on the real RabbitMQ and S3 server. At-least-once delivery
/// (a job is acknowledged only after its completion marker is written) plus idempotent outputs (deterministic keys,
/// UIDs and bytes; the marker written last) must make every kill cost time, never a series, a duplicate or a byte.
/// </summary>
[Collection(TestServersCollection.Name)]
public sealed class KillsTests(TestServers servers, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);
    private PipelineScope _scope = null!;

    public async Task InitializeAsync() => _scope = await PipelineScope.CreateAsync(servers);

    public async Task DisposeAsync() => await _scope.DisposeAsync();

    /// <remarks>
    /// One run holds every kill (separate runs would each pay the services' startup and the whole drop): ingest is killed
    /// while it publishes the jobs (after 3 of 20, the drop still arriving), evaluation after its 3rd report, and the
    /// workers 10 times at seeded random moments, each victim 0.3-2 s after it became ready, while the drop goes on.
    /// </remarks>
    [Fact]
    public async Task Requirement_workers_killed_ten_times_ingest_killed_while_publishing_and_evaluation_killed_mid_work_leave_every_series_done_and_evaluated_once_byte_identical_with_no_message_behind()
    {
        await FaultRun.ReferenceAsync(servers, output);
        await using var run = new FaultRun(_scope, output);
        var evaluation = run.StartAsync("evaluation");
        var ingest = run.StartAsync("ingest");
        var workers = await Task.WhenAll(run.StartAsync("worker-1"), run.StartAsync("worker-2"));
        await Task.WhenAll(evaluation, ingest);

        // The drop is paced by the worker kills (series s waits for (s + 1) / 2 kills, the last one for all ten), so the
        // work spans the kills on a fast machine too and the last series is written after the last kill; series arrive at
        // least 400 ms apart, so their quiet periods end apart.
        const int WorkerKills = 10;
        var kills = 0;
        var drop = run.DropAsync(TimeSpan.FromMilliseconds(400), async s =>
        {
            while (Volatile.Read(ref kills) < (s + 1) * WorkerKills / FaultRun.SeriesCount) await Task.Delay(50);
        });
        var killIngest = KillAfterAsync(run, await ingest, "Published denoise job");
        var killEvaluation = KillAfterAsync(run, await evaluation, "Evaluated series");
        await run.WaitForLogAsync("worker", " denoised: ", 1);
        var workerKills = await run.KillRepeatedlyAsync(workers, WorkerKills, seed: 2201, killed: count => Volatile.Write(ref kills, count));
        await Task.WhenAll(drop, killIngest, killEvaluation);
        await run.WaitDoneAsync(Patience);

        await run.AssertDoneExactlyOnceAsync(servers);
        // The worker kills fell across the run: the last series was written after the last kill.
        var lastMarker = await LastMarkerAsync();
        Assert.True(lastMarker > workerKills[^1], $"the run ended at {lastMarker:HH:mm:ss.fff}, before the last kill at {workerKills[^1]:HH:mm:ss.fff}");
    }

    /// <summary>SIGKILLs a service once it logged 3 lines with <paramref name="text"/> and asserts that it had work left then.</summary>
    private async Task KillAfterAsync(FaultRun run, ServiceProcess victim, string text)
    {
        var slot = victim.Name.Split('#')[0];
        var done = await run.WaitForLogAsync(slot, text, 3);
        await run.KillAndReplaceAsync(victim);
        output.WriteLine($"{slot} killed after {done} lines \"{text}\"");
        Assert.True(done < FaultRun.SeriesCount, $"{slot} had finished all {done} series before it was killed");
    }

    private async Task<DateTimeOffset> LastMarkerAsync()
    {
        var last = DateTimeOffset.MinValue;
        foreach (var series in FaultRun.Input)
        {
            var marker = JsonSerializer.Deserialize<SeriesCompletion>(await _scope.Store.GetBytesAsync(_scope.OutputBucket,
                BucketLayout.CompletionMarker(series.StudyInstanceUid, series.SeriesInstanceUid, FaultRun.ModelVersion)))!;
            if (marker.CompletedAt > last) last = marker.CompletedAt;
        }
        return last;
    }
}
