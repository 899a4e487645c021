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

    [Fact]
    public async Task Requirement_workers_SIGKILLed_ten_times_mid_run_and_replaced_leave_every_series_done_once_byte_identical_and_no_message_behind()
    {
        await FaultRun.ReferenceAsync(servers, output);
        await using var run = new FaultRun(_scope, output);
        await Task.WhenAll(run.StartAsync("ingest"), run.StartAsync("evaluation"));
        var workers = await Task.WhenAll(run.StartAsync("worker-1"), run.StartAsync("worker-2"));

        // Kills at seeded random moments while the drop is still arriving and the jobs run; each victim is replaced at once.
        var drop = run.DropAsync(TimeSpan.FromMilliseconds(400));
        await run.WaitForLogAsync("worker", " denoised: ", 1);
        var kills = await run.KillRepeatedlyAsync(workers, 10, seed: 2201);
        await drop;
        await run.WaitDoneAsync(Patience);

        await run.AssertDoneExactlyOnceAsync(servers);
        // The kills fell across the run: the last series was written after the last kill.
        var lastMarker = await LastMarkerAsync();
        Assert.True(lastMarker > kills[^1], $"the run ended at {lastMarker:HH:mm:ss.fff}, before the last kill at {kills[^1]:HH:mm:ss.fff}");
    }

    [Fact]
    public async Task Requirement_ingest_killed_while_publishing_and_evaluation_killed_mid_work_lose_no_series_and_evaluate_each_once()
    {
        await FaultRun.ReferenceAsync(servers, output);
        await using var run = new FaultRun(_scope, output);
        var evaluation = await run.StartAsync("evaluation");
        var ingest = await run.StartAsync("ingest");
        await Task.WhenAll(run.StartAsync("worker-1"), run.StartAsync("worker-2"));

        // Series arrive 400 ms apart, so their quiet periods end apart and ingest publishes their jobs over ~8 s.
        var drop = run.DropAsync(TimeSpan.FromMilliseconds(400));
        var published = await run.WaitForLogAsync("ingest", "Published denoise job", 3);
        Assert.True(published < FaultRun.SeriesCount, $"ingest had published all {published} jobs before it was killed");
        ingest = await run.KillAndReplaceAsync(ingest);

        var evaluated = await run.WaitForLogAsync("evaluation", "Evaluated series", 3);
        Assert.True(evaluated < FaultRun.SeriesCount, $"evaluation had evaluated all {evaluated} series before it was killed");
        await run.KillAndReplaceAsync(evaluation);
        output.WriteLine($"killed ingest after {published} jobs published, evaluation after {evaluated} series evaluated");

        await drop;
        await run.WaitDoneAsync(Patience);
        await run.AssertDoneExactlyOnceAsync(servers);
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
