using System.Diagnostics;
using System.Text.Json;
using Pipeline.Contracts;
using Pipeline.Denoising.Models;
using Pipeline.Hosting;
using Pipeline.Registry;
using Pipeline.Storage;

namespace Pipeline.IntegrationTests.Pipeline;

public sealed partial class DistributedPipelineTests
{
    [Fact]
    public async Task Requirement_a_job_in_the_error_queue_is_listed_and_after_its_cause_is_fixed_jobs_retry_completes_it_and_its_record_says_retried()
    {
        var settings = _scope.Settings();
        var worker = new Dictionary<string, string?>(settings) { ["Bus:RetryLimit"] = "1" };
        var process = ServiceProcess.Start("worker", "Pipeline.DenoiseWorker", worker);
        try
        {
            await process.WaitReadyAsync(TimeSpan.FromSeconds(90));
            await using var observer = await RecorderBus.StartAsync(_scope);
            var instances = await _scope.DropAsync("drop/retry/t1/", PipelineScope.SampleSeries("t1", 2));
            var first = Dicom.DicomFile.Open(await _scope.Store.GetBytesAsync(instances[0].Bucket, instances[0].Key)).Dataset;
            var (study, series) = (first.GetRequiredString(Dicom.DicomTags.StudyInstanceUID), first.GetRequiredString(Dicom.DicomTags.SeriesInstanceUID));
            // The cause: a model version that is not in the registry yet.
            var job = new DenoiseSeries(study, series, instances, "denoiser/7", JobPriority.Normal, "MR", 1, "fingerprint");
            await observer.Bus.Publish(job);
            var record = BucketLayout.FailureRecord(PipelineStage.Denoise, instances[0]);
            await WaitUntilAsync(() => _scope.Store.ExistsAsync(_scope.OutputBucket, record), "no failure record for the failed job");

            var failed = Cli(settings, "jobs", "failed", "--json");
            Assert.True(failed.ExitCode == 0, failed.Output);
            var listing = JsonDocument.Parse(failed.Output).RootElement;
            Assert.Equal(1u, listing.GetProperty("ErrorQueues").GetProperty(PipelineQueues.ErrorQueue(PipelineQueues.DenoiseJobs)).GetUInt32());
            Assert.Equal(series, listing.GetProperty("Series")[0].GetProperty("SeriesInstanceUid").GetString());

            Assert.Equal(1, Cli(settings, "jobs", "retry", "1.2.3.4").ExitCode); // not a failed series
            var registry = new ModelRegistry(_scope.Store, new ModelRegistryOptions { Bucket = _scope.ModelsBucket, CacheFolder = _scope.CacheFolder });
            await registry.PublishAsync(DenoisingModel.DefaultFolder, new ModelVersionId("denoiser", "7"), promote: false);
            var retry = Cli(settings, "jobs", "retry", series);

            Assert.True(retry.ExitCode == 0, retry.Output);
            await WaitUntilAsync(() => _scope.Store.ExistsAsync(_scope.OutputBucket, BucketLayout.CompletionMarker(study, series, "denoiser/7")), "the retried job did not complete");
            var marked = JsonSerializer.Deserialize<FailureRecord>(await _scope.Store.GetBytesAsync(_scope.OutputBucket, record), ContractJson.Options)!;
            Assert.NotNull(marked.RetriedAt);
            var after = JsonDocument.Parse(Cli(settings, "jobs", "failed", "--json").Output).RootElement;
            Assert.Equal(0, after.GetProperty("Series").GetArrayLength());
            Assert.All(after.GetProperty("ErrorQueues").EnumerateObject(), q => Assert.Equal(0u, q.Value.GetUInt32()));
        }
        finally
        {
            await DisposeAllAsync([process]);
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string failure)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < Patience, failure);
            await Task.Delay(200);
        }
    }

    /// <summary>Runs the built `pipeline` tool with the deployment's settings as environment variables, as an operator would.</summary>
    private static (int ExitCode, string Output) Cli(IReadOnlyDictionary<string, string?> settings, params string[] args) =>
        Cli(settings, TimeSpan.FromMinutes(1), args);

    private static (int ExitCode, string Output) Cli(IReadOnlyDictionary<string, string?> settings, TimeSpan timeout, params string[] args)
    {
        var dll = ServiceProcess.BuiltAssembly("Pipeline.Cli", assemblyName: "pipeline");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet");
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (key, value) in settings) start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        var (exitCode, stdout, stderr) = ExternalTool.Run(start, timeout);
        return (exitCode, stdout + stderr);
    }
}
