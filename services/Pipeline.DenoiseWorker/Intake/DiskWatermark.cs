using System.Diagnostics.Metrics;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.Hosting;
using Pipeline.Registry;

namespace Pipeline.DenoiseWorker.Intake;

/// <summary>Free bytes on the file system that holds a folder (injectable: tests simulate a full disk).</summary>
internal interface IFreeSpaceProbe
{
    long FreeBytes(string folder);
}

/// <summary>The real probe: the drive of the folder, or of its nearest existing parent.</summary>
internal sealed class DriveFreeSpace : IFreeSpaceProbe
{
    public long FreeBytes(string folder)
    {
        var existing = new DirectoryInfo(Path.GetFullPath(folder));
        while (!existing.Exists && existing.Parent is { } parent) existing = parent;
        return new DriveInfo(existing.FullName).AvailableFreeSpace;
    }
}

/// <summary>
/// Stops the job queue's receive endpoint while free space on the worker's temp or model cache folder is below
/// <see cref="DenoiseWorkerOptions.MinFreeDiskBytes"/>, and starts it again once there is enough: jobs stay in the queue
/// for other workers (or for later) instead of failing here for want of disk. Jobs in hand finish. Checked every
/// <see cref="DenoiseWorkerOptions.DiskCheckInterval"/>; the gauge "pipeline.denoise.intake_paused" and a log say so.
/// </summary>
internal sealed partial class DiskWatermark(
    IFreeSpaceProbe probe,
    ModelRegistry registry,
    IOptions<DenoiseWorkerOptions> options,
    ILogger<DiskWatermark> logger) : BackgroundService, IReceiveEndpointObserver
{
    private static readonly Meter Meter = new(PipelineMetrics.DenoiseWorkerMeter);
    private static int s_paused; // one worker per process: the gauge reads it
    private static readonly ObservableGauge<int> PausedGauge = Meter.CreateObservableGauge("pipeline.denoise.intake_paused",
        () => Volatile.Read(ref s_paused), description: "1 while the worker takes no new jobs (disk below its watermark)");

    // Makes the static fields above initialise when the first watermark is made: without it (beforefieldinit) the gauge
    // came to exist only at the first pause, so a dashboard showed no data for a worker that never paused.
    static DiskWatermark()
    {
    }
    private readonly SemaphoreSlim _switching = new(1, 1);
    private IReceiveEndpoint? _jobs;
    private volatile bool _paused;

    /// <summary>Whether the worker is taking no new jobs.</summary>
    public bool Paused => _paused;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.DiskCheckInterval);
        do await CheckAsync(stoppingToken);
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Probes the folders once and stops or starts the job endpoint accordingly.</summary>
    public async Task CheckAsync(CancellationToken ct)
    {
        var watermark = options.Value.MinFreeDiskBytes;
        if (watermark == 0) return;
        var (folder, free) = new[] { Path.GetTempPath(), registry.CacheFolder }.Select(f => (f, probe.FreeBytes(f))).MinBy(p => p.Item2);
        await _switching.WaitAsync(ct);
        try
        {
            if (free < watermark && !_paused)
            {
                _paused = true;
                Volatile.Write(ref s_paused, 1);
                LogPaused(logger, folder, free, watermark);
                if (_jobs is { } jobs) await jobs.Stop(ct);
            }
            else if (free >= watermark && _paused)
            {
                _paused = false;
                Volatile.Write(ref s_paused, 0);
                LogResumed(logger, folder, free);
                _jobs?.Start(ct);
            }
        }
        finally
        {
            _switching.Release();
        }
    }

    public async Task Ready(ReceiveEndpointReady ready)
    {
        if (ready.InputAddress.AbsolutePath.Split('/')[^1] != PipelineQueues.DenoiseJobs) return;
        await _switching.WaitAsync();
        try
        {
            var first = _jobs is null;
            _jobs = ready.ReceiveEndpoint;
            if (first && _paused) await _jobs.Stop(); // low before the bus was up
        }
        finally
        {
            _switching.Release();
        }
    }

    public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;

    public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;

    public Task Faulted(ReceiveEndpointFaulted faulted) => Task.CompletedTask;

    public override void Dispose()
    {
        _switching.Dispose();
        base.Dispose();
    }

    [LoggerMessage(2401, LogLevel.Warning, "Disk below watermark ({Folder}: {Free} bytes free, DenoiseWorker:MinFreeDiskBytes {Watermark}): taking no new jobs, they stay in the queue")]
    private static partial void LogPaused(ILogger logger, string folder, long free, long watermark);

    [LoggerMessage(2402, LogLevel.Information, "Disk above watermark again ({Folder}: {Free} bytes free): taking jobs")]
    private static partial void LogResumed(ILogger logger, string folder, long free);
}
