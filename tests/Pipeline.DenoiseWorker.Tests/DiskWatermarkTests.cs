using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Contracts;
using Pipeline.DenoiseWorker.Intake;
using Pipeline.Storage;

namespace Pipeline.DenoiseWorker.Tests;

/// <summary>The worker's disk watermark on the in-memory bus, with a simulated free-space probe.</summary>
public sealed class DiskWatermarkTests
{
    private sealed class Disk : IFreeSpaceProbe
    {
        public long Free { get; set; }

        public long FreeBytes(string folder) => Free;
    }

    [Fact]
    public async Task Below_the_watermark_a_job_waits_in_the_queue_unfailed_and_runs_once_space_returns()
    {
        // Requirement: a worker short of disk refuses new jobs (they stay queued) instead of failing them, and resumes by itself.
        var disk = new Disk { Free = 10 * 1024 * 1024 };
        await using var w = await WorkerFixture.StartAsync(services => services.AddSingleton<IFreeSpaceProbe>(disk).AddDiskWatermark());
        var watermark = w.Service<DiskWatermark>();

        await watermark.CheckAsync(default);
        Assert.True(watermark.Paused);
        await w.Harness.Bus.Publish(w.Job(w.Instances.Take(2).ToList()));
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(w.Harness.Consumed.Select<DenoiseSeries>().Any());
        Assert.False(w.Harness.Published.Select<Fault<DenoiseSeries>>().Any());

        disk.Free = long.MaxValue;
        await watermark.CheckAsync(default);
        Assert.False(watermark.Paused);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (!await w.Store.ExistsAsync("denoised", w.MarkerKey()))
        {
            Assert.True(DateTime.UtcNow < deadline, "the job did not run after space returned");
            await Task.Delay(100);
        }
        // The harness does not observe a receive endpoint that was stopped and started again, so the marker is the evidence
        // that the job ran; and it was never failed.
        Assert.False(w.Harness.Published.Select<Fault<DenoiseSeries>>().Any());
    }
}
