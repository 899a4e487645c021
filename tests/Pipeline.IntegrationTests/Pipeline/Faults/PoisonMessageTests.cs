using System.Text;
using MassTransit;
using Pipeline.Contracts;
using Xunit.Abstractions;
using static Pipeline.IntegrationTests.Pipeline.Faults.FaultServers;

namespace Pipeline.IntegrationTests.Pipeline.Faults;

/// <summary>
/// Poison messages put straight on the services' queues, with ingest, a worker and evaluation running as processes:
/// each is dealt with once (error queue with its reason, and a failure record where a key can be derived; or, for a
/// job whose objects are gone, a failure record per object), nothing is redelivered forever, and the next good job runs.
/// </summary>
[Collection(TestServersCollection.Name)]
public sealed class PoisonMessageTests(TestServers servers, ITestOutputHelper output) : FaultTest(servers)
{
    private const int Slices = 3;
    [Fact]
    public async Task Requirement_poison_messages_end_in_the_error_queue_or_as_failure_records_once_and_the_next_good_job_runs()
    {
        var settings = Scope.Settings();
        List<ServiceProcess> processes = [];
        try
        {
            processes = await StartAsync(("ingest", "Pipeline.Ingest", settings), ("worker", "Pipeline.DenoiseWorker", Worker(Scope, settings, "worker")),
                ("evaluation", "Pipeline.Evaluation", settings));
            await using var observer = await RecorderBus.StartAsync(Scope);
            await Scope.DropAsync("drop/poison/t1/", PipelineScope.SampleSeries("t1", Slices));
            var good = (await observer.Recorder.WaitForAsync<SeriesDenoised>(1, Patience))[0];
            var job = observer.Recorder.All<DenoiseSeries>()[0];
            var jobs = await observer.Bus.GetSendEndpoint(new Uri("exchange:denoise-series"));
            var evaluations = await observer.Bus.GetSendEndpoint(new Uri("exchange:evaluation"));

            // 1. A body that does not deserialize: no message type, so no fault record key; the error queue keeps it with the reason.
            await PublishRawAsync(Scope, "denoise-series", Encoding.UTF8.GetBytes("{ \"message\": not json"));
            // 2. A contract version from the future, to the worker and to evaluation: refused before any work, not retried.
            var futureSource = new ObjectRef(Scope.InputBucket, "poison/future-version.dcm");
            await jobs.Send(job with { SeriesInstanceUid = job.SeriesInstanceUid + ".91", Instances = [futureSource], ContractVersion = ContractVersion.Current + 1 });
            var futureEvaluationSource = new ObjectRef(Scope.InputBucket, "poison/future-evaluation.dcm");
            await evaluations.Send(good with
            {
                SourceSeriesInstanceUid = good.SourceSeriesInstanceUid + ".92",
                Instances = [new DenoisedInstance(futureEvaluationSource, good.Instances[0].Derived)],
                ContractVersion = ContractVersion.Current + 1,
            });
            // 3. A job naming objects that do not exist: each object fails alone with its record, the series is announced not denoisable.
            ObjectRef[] missing = [new(Scope.InputBucket, "poison/missing-1.dcm"), new(Scope.InputBucket, "poison/missing-2.dcm")];
            await jobs.Send(job with { SeriesInstanceUid = job.SeriesInstanceUid + ".93", Instances = missing, SourceFingerprint = "gone" });

            // The next good series goes through.
            await Scope.DropAsync("drop/poison/t1-noisy/", PipelineScope.SampleSeries("t1-noisy", Slices));
            await observer.Recorder.WaitForAsync<EvaluationCompleted>(2, Patience);

            var future = await WaitForFailureRecordAsync(Scope, PipelineStage.Denoise, futureSource, Patience);
            Assert.Contains($"contract version {ContractVersion.Current + 1}", future.Reason, StringComparison.Ordinal);
            var futureEvaluation = await WaitForFailureRecordAsync(Scope, PipelineStage.Evaluation, futureEvaluationSource, Patience);
            Assert.Contains($"contract version {ContractVersion.Current + 1}", futureEvaluation.Reason, StringComparison.Ordinal);
            foreach (var gone in missing)
                Assert.Contains("no longer exists", (await WaitForFailureRecordAsync(Scope, PipelineStage.Denoise, gone, Patience)).Reason, StringComparison.Ordinal);
            Assert.Single(await observer.Recorder.WaitForAsync<SeriesNotDenoisable>(1, Patience));

            // In the error queues once each, with the reason in MassTransit's fault headers; nothing left to redeliver.
            await WaitForDepthAsync(Scope, "denoise-series_error", 2, Patience);
            await WaitForDepthAsync(Scope, "evaluation_error", 1, Patience);
            await Task.Delay(TimeSpan.FromSeconds(3));
            var denoiseErrors = await FaultMessagesAsync(Scope, "denoise-series_error");
            Assert.Equal(2, denoiseErrors.Count);
            Assert.Contains(denoiseErrors, r => r.Contains("contract version", StringComparison.Ordinal));
            Assert.Contains(denoiseErrors, r => r.Length > 0 && !r.Contains("contract version", StringComparison.Ordinal));
            Assert.Contains("contract version", Assert.Single(await FaultMessagesAsync(Scope, "evaluation_error")), StringComparison.Ordinal);
            Assert.Equal((0u, 0u), (await QueueDepthAsync(Scope, "denoise-series"), await QueueDepthAsync(Scope, "evaluation")));
            Assert.Equal(2, observer.Recorder.All<EvaluationCompleted>().Count);
            Assert.All(processes, p => Assert.False(p.HasExited, $"{p.Name} exited"));
        }
        finally
        {
            await DisposeAllAsync(output, processes);
        }
    }
}
