using System.Text.Json;
using Pipeline.Contracts;
using Pipeline.Denoising.Models;
using Pipeline.Registry;
using Pipeline.Storage;
using Xunit.Abstractions;
using static Pipeline.IntegrationTests.Pipeline.Faults.FaultServers;

namespace Pipeline.IntegrationTests.Pipeline.Faults;

/// <summary>
/// A worker process whose model cache is on a full disk (a 64 KiB tmpfs: the model does not fit), and a job naming an
/// object larger than Limits:MaxObjectBytes: each costs a failure record with a clear reason, the worker stays up, and
/// once there is room it takes the next job without a restart.
/// </summary>
[Collection(TestServersCollection.Name)]
public sealed class DiskFullTests(TestServers servers, ITestOutputHelper output) : FaultTest(servers)
{
    private const int Slices = 3;
    private const long ObjectLimit = 200_000; // the sample slices are about 80 KB
    [Fact]
    public async Task Requirement_a_full_cache_disk_and_an_object_over_the_size_limit_each_cost_a_failure_record_and_the_worker_goes_on()
    {
        Assert.True(Environment.UserName == "root", "this test mounts a small tmpfs as the worker's model cache: run it as root (CI does)");
        var cache = Directory.CreateDirectory(Path.Combine(Scope.CacheFolder, "full")).FullName;
        ExternalTool.Ok("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", cache);
        List<ServiceProcess> processes = [];
        try
        {
            var registry = new ModelRegistry(Scope.Store, new ModelRegistryOptions { Bucket = Scope.ModelsBucket, CacheFolder = Path.Combine(Scope.CacheFolder, "test") });
            var version = (await registry.EnsureCurrentAsync("denoiser", DenoisingModel.DefaultFolder)).ToString();
            var worker = Worker(Scope, Scope.Settings(), "worker");
            worker["ModelRegistry:CacheFolder"] = cache;
            worker["DenoiseWorker:MinFreeDiskBytes"] = "0"; // the disk watermark would hold the job in the queue: this is the disk that fills anyway
            worker["Limits:MaxObjectBytes"] = ObjectLimit.ToString(System.Globalization.CultureInfo.InvariantCulture);
            worker["Bus:RetryLimit"] = "1"; // retrying is not what this test is about
            processes = await StartAsync(("worker", "Pipeline.DenoiseWorker", worker));
            await using var observer = await RecorderBus.StartAsync(Scope);
            var jobs = await observer.Bus.GetSendEndpoint(new Uri("exchange:denoise-series"));

            // Disk full: the model cannot be cached, the job goes to the error queue with the reason in its failure record.
            var first = await Scope.DropAsync("drop/disk-full/t1/", PipelineScope.SampleSeries("t1", Slices));
            await jobs.Send(new DenoiseSeries("2.25.1", "2.25.1.1", first, version, JobPriority.Normal, "MR", 1, "disk-full"));
            var full = await WaitForFailureRecordAsync(Scope, PipelineStage.Denoise, first[0], Patience);
            Assert.Contains("No space left on device", full.Reason, StringComparison.Ordinal);

            // Room again, and a job with one object past the size limit: that object fails alone, the others are written.
            ExternalTool.Ok("mount", "-o", "remount,size=64m", cache);
            var second = (await Scope.DropAsync("drop/disk-full/t1-noisy/", PipelineScope.SampleSeries("t1-noisy", Slices))).ToList();
            var big = await Scope.DropAsync("drop/disk-full/t1-noisy/big.dcm", new byte[ObjectLimit + 1]);
            await jobs.Send(new DenoiseSeries("2.25.2", "2.25.2.1", [.. second, big], version, JobPriority.Normal, "MR", 1, "too-big"));
            var done = Assert.Single(await observer.Recorder.WaitForAsync<SeriesDenoised>(1, Patience));
            Assert.Equal((Slices, 1), (done.Instances.Count, done.FailedInstances));
            var refused = await WaitForFailureRecordAsync(Scope, PipelineStage.Denoise, big, Patience);
            Assert.Contains($"larger than the object-size limit of {ObjectLimit} bytes", refused.Reason, StringComparison.Ordinal);
            Assert.False(processes[0].HasExited, "the worker exited");
            Assert.Equal(1u, await QueueDepthAsync(Scope, "denoise-series_error"));
        }
        finally
        {
            await DisposeAllAsync(output, processes);
            ExternalTool.Ok("umount", cache);
        }
    }
}
