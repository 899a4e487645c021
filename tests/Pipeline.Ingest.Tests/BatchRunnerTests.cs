using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using System.Diagnostics.Metrics;
using System.Text;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.Hosting;
using Pipeline.Ingest.Batches;
using Pipeline.Registry;
using Pipeline.Storage;
using Pipeline.Reporting;
using Pipeline.Storage.Local;

namespace Pipeline.Ingest.Tests;

/// <summary>
/// Batches: every study under a prefix becomes jobs of one batch at its priority, never more outstanding than the cap, the
/// batch record counts progress and failures with reasons, and the batch's morning report is written when it finishes.
/// Against a real local-folder store and MassTransit's in-memory harness; a stand-in worker writes completion markers.
/// </summary>
public sealed class BatchRunnerTests : IAsyncLifetime
{
    private const string Study = "1.2.826.0.1.3680043.2.1125.7";
    private readonly string _root = Directory.CreateTempSubdirectory("batch-tests-").FullName;
    private readonly IngestOptions _options = new() { ModelVersion = "cdae/1", MaxOutstandingJobsPerBatch = 1, BatchPollInterval = TimeSpan.FromMilliseconds(20) };
    private LocalFolderObjectStore _store = null!;
    private ServiceProvider _provider = null!;
    private ITestHarness _harness = null!;

    public async Task InitializeAsync()
    {
        _store = new LocalFolderObjectStore(new LocalFolderStorageOptions { Root = _root });
        await _store.EnsureBucketAsync("archive");
        await _store.EnsureBucketAsync("denoised");
        _provider = new ServiceCollection().AddMetrics().AddMassTransitTestHarness().BuildServiceProvider(true);
        _harness = _provider.GetRequiredService<ITestHarness>();
        await _harness.Start();
    }

    public async Task DisposeAsync()
    {
        await _harness.Stop();
        await _provider.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private BatchRunner NewRunner() => new(
        o => new IngestProcessor(_store, _harness.Bus, Options.Create(o), Options.Create(new StorageOptions()), new ModelRegistry(_store, new ModelRegistryOptions()),
            Options.Create(new ModelRegistrySettings()), TimeProvider.System, Options.Create(new LimitsOptions()), Options.Create(new BusOptions()), NullLogger<IngestProcessor>.Instance),
        _store, Options.Create(_options), Options.Create(new StorageOptions()),
        new BatchGauges(_provider.GetRequiredService<IMeterFactory>(), TimeProvider.System, _options.BatchDeadline), TimeProvider.System, NullLogger<BatchRunner>.Instance);

    [Fact]
    public async Task Every_study_under_the_prefix_becomes_bulk_jobs_of_the_batch_within_the_cap_and_the_finished_record_and_report_count_them()
    {
        for (var s = 1; s <= 3; s++)
            for (var i = 1; i <= 2; i++)
                await _store.PutBytesAsync("archive", $"night/study{s}/t1/{i}.dcm", IngestProcessorTests.Slice(i, i, series: $"{Study}.{s}", study: $"{Study}{s}"));
        await _store.PutBytesAsync("archive", "night/study2/notes.txt", Encoding.UTF8.GetBytes("not DICOM"));
        await _store.PutBytesAsync("archive", "other/study9/1.dcm", IngestProcessorTests.Slice(1, 1, series: $"{Study}.9", study: $"{Study}9"));
        var runner = NewRunner();
        await runner.StartAsync(default);

        await runner.SubmitAsync(new SubmitBatch("night-1", new ObjectRef("archive", "night/")), default);
        var jobs = await WorkAsync(expectedJobs: 3);

        var record = await FinishedRecordAsync("night-1");
        await runner.StopAsync(default);
        Assert.All(jobs, j => Assert.Equal(JobPriority.Bulk, j.Priority));
        Assert.Equal([$"{Study}.1", $"{Study}.2", $"{Study}.3"], jobs.Select(j => j.SeriesInstanceUid).Order()); // not other/
        Assert.Equal((3, 3, 6L, 3, 6L, 0, 0), (record.Studies, record.Series, record.SlicesExpected, record.SeriesDone, record.SlicesDone, record.SeriesFailed, record.Outstanding));
        Assert.True(record.Listed);
        var failure = Assert.Single(record.Failures);
        Assert.Equal(new ObjectRef("archive", "night/study2/notes.txt"), failure.Object);
        Assert.Contains("not a readable DICOM instance", failure.Reason);
        var report = Encoding.UTF8.GetString(await _store.GetBytesAsync("denoised", BucketLayout.BatchReport("night-1")));
        Assert.Equal(new ObjectRef("denoised", BucketLayout.BatchReport("night-1")), record.Report);
        Assert.Contains("<dt>series done</dt><dd>3</dd>", report);
        Assert.Contains("night/study2/notes.txt", report);
    }

    /// <summary>
    /// Operators watch batches in Prometheus: per batch name, slices expected and done, the estimated finish (its finish
    /// once finished), the deadline (start plus Ingest:BatchDeadline) and whether it still runs.
    /// </summary>
    [Fact]
    public async Task A_batch_exports_its_slices_expected_and_done_its_finish_estimate_deadline_and_state_under_its_name()
    {
        _options.BatchDeadline = TimeSpan.FromHours(8);
        for (var s = 1; s <= 2; s++)
            for (var i = 1; i <= 2; i++)
                await _store.PutBytesAsync("archive", $"night/study{s}/t1/{i}.dcm", IngestProcessorTests.Slice(i, i, series: $"{Study}.{s}", study: $"{Study}{s}"));
        var meters = _provider.GetRequiredService<IMeterFactory>();
        MetricCollector<long> Gauge(string name) => new(meters, "Pipeline.Ingest", name);
        using var slices = Gauge("pipeline.batch.slices");
        using var eta = Gauge("pipeline.batch.eta");
        using var deadline = Gauge("pipeline.batch.deadline");
        using var running = Gauge("pipeline.batch.running");
        var runner = NewRunner();
        await runner.StartAsync(default);

        await runner.SubmitAsync(new SubmitBatch("night-2", new ObjectRef("archive", "night/")), default);
        await WorkAsync(expectedJobs: 2);
        var record = await FinishedRecordAsync("night-2");
        await runner.StopAsync(default);

        IReadOnlyList<CollectedMeasurement<long>> Observe(MetricCollector<long> gauge)
        {
            gauge.RecordObservableInstruments();
            return gauge.GetMeasurementSnapshot();
        }
        var counts = Observe(slices);
        Assert.Equal(["done=4", "expected=4"], counts.Select(m => $"{m.Tags["state"]}={m.Value}").Order());
        Assert.All(counts, m => Assert.Equal("night-2", m.Tags["batch"]));
        Assert.Equal(record.Finished!.Value.ToUnixTimeSeconds(), Assert.Single(Observe(eta)).Value);
        Assert.Equal((record.Started + TimeSpan.FromHours(8)).ToUnixTimeSeconds(), Assert.Single(Observe(deadline)).Value);
        Assert.Equal(0, Assert.Single(Observe(running)).Value);
    }

    /// <summary>
    /// The stand-in worker: answers each published job with its completion marker after a moment (in which an uncapped runner
    /// would publish more), and checks that no more than the cap are ever outstanding.
    /// </summary>
    private async Task<List<DenoiseSeries>> WorkAsync(int expectedJobs)
    {
        var done = new List<DenoiseSeries>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (done.Count < expectedJobs && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            var published = _harness.Published.Select<DenoiseSeries>().Select(p => p.Context.Message).ToList();
            Assert.True(published.Count - done.Count <= _options.MaxOutstandingJobsPerBatch,
                $"{published.Count - done.Count} jobs outstanding, over the cap of {_options.MaxOutstandingJobsPerBatch}");
            foreach (var job in published.Skip(done.Count))
            {
                await _store.WriteMarkerAsync("denoised", new SeriesCompletion(job.StudyInstanceUid, job.SeriesInstanceUid, job.SeriesInstanceUid + ".1",
                    job.ModelVersion, job.Revision, job.SourceFingerprint, [.. job.Instances.Select(i => new DenoisedInstance(i, new ObjectRef("denoised", i.Key)))],
                    [], DateTimeOffset.UtcNow, new Dictionary<string, double>()), default);
                done.Add(job);
            }
        }
        Assert.Equal(expectedJobs, done.Count);
        return done;
    }

    private async Task<BatchRecord> FinishedRecordAsync(string name)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var record = (await _store.ReadBatchAsync("denoised", name, default))!;
            if (record.Finished is not null || DateTime.UtcNow > deadline) return record;
            await Task.Delay(50);
        }
    }
}
