using System.Text;
using Pipeline.Contracts;
using Pipeline.Reporting;
using Pipeline.Storage;

namespace Pipeline.IntegrationTests.Pipeline;

public sealed partial class DistributedPipelineTests
{
    [Fact]
    public async Task Requirement_pipeline_submit_turns_the_studies_under_a_prefix_into_one_bulk_batch_whose_status_batches_and_report_show_it_done()
    {
        var settings = _scope.Settings();
        // One job outstanding at a time: the batch's second series waits for the first one's marker.
        var ingest = new Dictionary<string, string?>(settings) { ["Ingest:MaxOutstandingJobsPerBatch"] = "1", ["Ingest:BatchPollInterval"] = "00:00:00.200" };
        List<ServiceProcess> processes = [];
        try
        {
            processes.Add(ServiceProcess.Start("ingest", "Pipeline.Ingest", ingest));
            processes.Add(ServiceProcess.Start("worker", "Pipeline.DenoiseWorker", settings));
            processes.Add(ServiceProcess.Start("evaluation", "Pipeline.Evaluation", settings));
            await Task.WhenAll(processes.Select(p => p.WaitReadyAsync(TimeSpan.FromSeconds(90))));
            await using var observer = await RecorderBus.StartAsync(_scope);
            // An archive outside the watched input bucket: only the batch brings it in.
            var archive = "arc-" + _scope.Id;
            await _scope.Store.EnsureBucketAsync(archive);
            foreach (var series in new[] { "t1", "t1-noisy" })
                foreach (var file in PipelineScope.SampleSeries(series, 3))
                    await _scope.Store.PutBytesAsync(archive, $"night/{series}/{Path.GetFileName(file)}", await File.ReadAllBytesAsync(file));
            await _scope.Store.PutBytesAsync(archive, "night/t1/notes.txt", Encoding.UTF8.GetBytes("not DICOM"));

            var submit = Cli(settings, "submit", $"{archive}/night/", "--batch", "night-1");

            Assert.True(submit.ExitCode == 0, submit.Output);
            await WaitUntilAsync(FinishedAsync, "the batch did not finish");
            Assert.All(observer.Recorder.All<DenoiseSeries>(), j => Assert.Equal(JobPriority.Bulk, j.Priority));
            Assert.Equal(2, observer.Recorder.All<DenoiseSeries>().Select(j => j.SeriesInstanceUid).Distinct().Count());
            var status = Cli(settings, "status", "--batch", "night-1");
            Assert.True(status.ExitCode == 0, status.Output);
            Assert.Contains("[########################################] 100%  6/6 slices", status.Output);
            Assert.Contains("2 series: 2 done, 0 in progress, 0 failed; 1 objects failed alone", status.Output);
            Assert.Contains($"failed: {archive}/night/t1/notes.txt: not a readable DICOM instance", status.Output);
            var batches = Cli(settings, "batches");
            Assert.True(batches.ExitCode == 0, batches.Output);
            Assert.Contains("night-1", batches.Output);
            Assert.Contains("2/2", batches.Output);
            var report = Encoding.UTF8.GetString(await _scope.Store.GetBytesAsync(_scope.OutputBucket, BucketLayout.BatchReport("night-1")));
            Assert.Contains("<dt>series done</dt><dd>2</dd>", report);
            Assert.Contains("<dt>slices denoised</dt><dd>6</dd>", report);
            Assert.Equal(1, Cli(settings, "status", "--batch", "no-such-batch").ExitCode);
        }
        finally
        {
            await DisposeAllAsync(processes);
        }

        async Task<bool> FinishedAsync()
        {
            try
            {
                return await _scope.Store.ReadBatchAsync(_scope.OutputBucket, "night-1", default) is { Finished: not null };
            }
            catch (HttpRequestException)
            {
                return false; // s3rver answers 500 to a GET that meets the record's rewrite (S3 serves the old or the new object)
            }
        }
    }
}
