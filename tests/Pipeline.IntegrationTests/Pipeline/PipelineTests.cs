using System.Text.Json;
using Pipeline.Contracts;
using Pipeline.Dicom;
using Pipeline.Evaluation;
using Pipeline.Ingest.Notifications;
using Pipeline.Storage;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Pipeline;

/// <summary>
/// The whole pipeline (ingest, a denoise worker, evaluation: the services' own registrations) on the real RabbitMQ
/// and S3 server: studies dropped into the input bucket come out denoised, evaluated and reported, with nothing lost.
/// </summary>
[Collection(TestServersCollection.Name)]
public sealed class PipelineTests(TestServers servers, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);
    private const string ModelVersion = "denoiser/1";

    private PipelineScope _scope = null!;

    public async Task InitializeAsync() => _scope = await PipelineScope.CreateAsync(servers);

    public async Task DisposeAsync() => await _scope.DisposeAsync();

    /// <summary>Slices per series: enough for a real series (slice order, several batches), few enough to keep the run short.</summary>
    private const int Slices = 8;

    private static string[] SampleFiles(string series) => PipelineScope.SampleSeries(series, Slices);

    private static (string Study, string Series) Uids(string file)
    {
        var dataset = DicomFile.Open(file).Dataset;
        return (dataset.GetRequiredString(DicomTags.StudyInstanceUID), dataset.GetRequiredString(DicomTags.SeriesInstanceUID));
    }

    private async Task<SeriesCompletion> MarkerAsync(string study, string series) =>
        JsonSerializer.Deserialize<SeriesCompletion>(await _scope.Store.GetBytesAsync(_scope.OutputBucket, BucketLayout.CompletionMarker(study, series, ModelVersion)))!;

    [Fact]
    public async Task Requirement_a_dropped_multi_series_study_is_denoised_evaluated_and_reported_per_series_and_its_inputs_are_untouched()
    {
        await using var pipeline = await PipelineHost.StartAsync(_scope, output);
        var dropped = new Dictionary<string, string>(StringComparer.Ordinal); // key -> original file
        foreach (var series in new[] { "t1", "t1-noisy" })
            foreach (var file in SampleFiles(series))
                dropped[$"drop/colin27/{series}/{Path.GetFileName(file)}"] = file;
        foreach (var series in new[] { "t1", "t1-noisy" })
            await _scope.DropAsync($"drop/colin27/{series}/", SampleFiles(series));

        await pipeline.Recorder.WaitForAsync<EvaluationCompleted>(2, Patience);

        // One job per series, each announced once.
        Assert.Equal(2, pipeline.Recorder.All<DenoiseSeries>().Count);
        Assert.Equal(2, pipeline.Recorder.All<SeriesDenoised>().Count);
        Assert.Empty(pipeline.Recorder.All<InstanceFailed>());

        using var dir = new TempDir();
        foreach (var series in new[] { "t1", "t1-noisy" })
        {
            var files = SampleFiles(series);
            var (study, uid) = Uids(files[0]);
            var marker = await MarkerAsync(study, uid);
            Assert.Equal((1, Slices), (marker.Revision, marker.Instances.Count));
            Assert.Empty(marker.FailedInstances);
            // Every dropped instance of the series is in it, in slice order (the sample's files are numbered along the slice axis).
            Assert.Equal(files.Select(f => $"drop/colin27/{series}/{Path.GetFileName(f)}"), marker.Instances.Select(i => i.Source.Key));

            // The derived instances are exactly the marker's, in the revision folder; report and montage sit beside the marker.
            var folder = BucketLayout.DerivedInstancesFolder(study, uid, ModelVersion);
            Assert.Equal(marker.Instances.Select(i => i.Derived.Key).Order(StringComparer.Ordinal), await _scope.KeysAsync(_scope.OutputBucket, folder));
            Assert.All(marker.Instances, i => Assert.StartsWith(BucketLayout.RevisionFolder(study, uid, ModelVersion, 1), i.Derived.Key));
            var report = JsonSerializer.Deserialize<EvaluationReport>(
                await _scope.Store.GetBytesAsync(_scope.OutputBucket, BucketLayout.Report(study, uid, ModelVersion)), EvaluationReport.Json)!;
            Assert.Equal((uid, marker.DerivedSeriesInstanceUid, Slices, 0), (report.SourceSeriesInstanceUid, report.DerivedSeriesInstanceUid, report.InstancesEvaluated, report.InstancesFailed));
            var montage = await _scope.Store.GetBytesAsync(_scope.OutputBucket, BucketLayout.Montage(study, uid, ModelVersion));
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, montage[..8]);

            // Each derived file passes the IOD validator (dicom3tools) and belongs to the source study (dcmtk).
            var paths = new List<string>();
            foreach (var instance in marker.Instances)
            {
                var path = Path.Combine(dir.Path, Path.GetFileName(instance.Derived.Key));
                await File.WriteAllBytesAsync(path, await _scope.Store.GetBytesAsync(_scope.OutputBucket, instance.Derived.Key));
                var check = ExternalTool.Run("dciodvfy", path);
                var errors = (check.StdErr + check.StdOut).Split('\n').Where(l => l.StartsWith("Error", StringComparison.Ordinal)).ToList();
                Assert.True(errors.Count == 0, $"{instance.Derived.Key}:\n{string.Join('\n', errors)}");
                paths.Add(path);
            }
            var dump = ExternalTool.Ok("dcmdump", ["-q", "+P", "0020,000D", "+P", "0020,000E", .. paths]);
            Assert.Equal(Slices, dump.Split('\n').Count(l => l.Contains($"[{study}]", StringComparison.Ordinal)));
            Assert.Equal(Slices, dump.Split('\n').Count(l => l.Contains($"[{marker.DerivedSeriesInstanceUid}]", StringComparison.Ordinal)));
        }

        // The input bucket holds exactly what was dropped, byte for byte.
        var inputs = await _scope.ReadAllAsync(_scope.InputBucket);
        Assert.Equal(dropped.Keys.Order(StringComparer.Ordinal), inputs.Keys);
        foreach (var (key, file) in dropped)
            Assert.True((await File.ReadAllBytesAsync(file)).AsSpan().SequenceEqual(inputs[key]), $"input {key} was modified");
    }

    [Fact]
    public async Task Requirement_a_corrupt_instance_and_a_non_DICOM_object_are_reported_with_reasons_and_the_rest_is_done()
    {
        await using var pipeline = await PipelineHost.StartAsync(_scope, output);
        var files = SampleFiles("t1-noisy");
        const string folder = "drop/broken-study/t1-noisy/";
        var truncated = new ObjectRef(_scope.InputBucket, folder + "0005.dcm"); // header intact, pixel data cut in half
        var headerCut = new ObjectRef(_scope.InputBucket, folder + "0017.dcm"); // cut inside the file meta information
        var notDicom = new ObjectRef(_scope.InputBucket, folder + "notes.txt");
        foreach (var file in files)
        {
            var bytes = await File.ReadAllBytesAsync(file);
            await _scope.DropAsync(folder + Path.GetFileName(file), Path.GetFileName(file) == "0005.dcm" ? bytes[..(bytes.Length / 2)] : bytes);
        }
        await _scope.DropAsync(headerCut.Key, (await File.ReadAllBytesAsync(files[0]))[..200]);
        await _scope.DropAsync(notDicom.Key, "Scanned at 3T; see the paper form."u8.ToArray());

        var completed = Assert.Single(await pipeline.Recorder.WaitForAsync<EvaluationCompleted>(1, Patience));

        // The other instances are denoised, evaluated and reported; the truncated one is listed as failed.
        var (study, uid) = Uids(files[0]);
        var marker = await MarkerAsync(study, uid);
        Assert.Equal([truncated], marker.FailedInstances);
        Assert.Equal(files.Where(f => !f.EndsWith("0005.dcm", StringComparison.Ordinal)).Select(f => folder + Path.GetFileName(f)),
            marker.Instances.Select(i => i.Source.Key));
        Assert.Equal(Slices - 1, (await _scope.KeysAsync(_scope.OutputBucket, BucketLayout.DerivedInstancesFolder(study, uid, ModelVersion))).Count);
        Assert.Equal(uid, completed.SeriesInstanceUid);
        Assert.True(await _scope.Store.ExistsAsync(_scope.OutputBucket, BucketLayout.Montage(study, uid, ModelVersion)));

        // Each bad object has its failure record naming it and the reason: the unreadable headers at ingest, the
        // truncated pixel data at the worker (ingest reads headers only).
        var expected = new[] { (headerCut, PipelineStage.Ingest), (notDicom, PipelineStage.Ingest), (truncated, PipelineStage.Denoise) };
        foreach (var (source, stage) in expected)
        {
            var record = JsonSerializer.Deserialize<FailureRecord>(await _scope.Store.GetBytesAsync(_scope.OutputBucket, BucketLayout.FailureRecord(stage, source)))!;
            Assert.Equal((source, stage), (record.Source, record.Stage));
            Assert.StartsWith("not a readable DICOM instance: ", record.Reason, StringComparison.Ordinal);
            Assert.True(record.Reason.Length > "not a readable DICOM instance: ".Length + 5, record.Reason);
        }
        Assert.Equal(expected.Select(e => e.Item1.ToString()).Order(StringComparer.Ordinal),
            pipeline.Recorder.All<InstanceFailed>().Select(f => f.Source.ToString()).Order(StringComparer.Ordinal));
        Assert.Equal(3, (await _scope.KeysAsync(_scope.OutputBucket, "failures/")).Count);
    }

    [Fact]
    public async Task Requirement_the_same_job_delivered_again_leaves_or_rewrites_byte_identical_outputs()
    {
        await using var pipeline = await PipelineHost.StartAsync(_scope, output);
        var files = SampleFiles("t1-noisy");
        await _scope.DropAsync("drop/again/t1-noisy/", files);
        await pipeline.Recorder.WaitForAsync<EvaluationCompleted>(1, Patience);
        var job = Assert.Single(pipeline.Recorder.All<DenoiseSeries>());
        var folder = BucketLayout.SeriesOutputFolder(job.StudyInstanceUid, job.SeriesInstanceUid, ModelVersion);
        var markerKey = BucketLayout.CompletionMarker(job.StudyInstanceUid, job.SeriesInstanceUid, ModelVersion);
        var first = await _scope.ReadAllAsync(_scope.OutputBucket, folder);
        Assert.Equal(Slices + 3, first.Count); // instances, marker, report, montage

        // Delivered twice more while its marker exists: acknowledged without denoising, the series announced again
        // from its marker (a worker may have died between marker and publish), every object byte-identical.
        var handled = pipeline.Recorder.Handled<DenoiseSeries>();
        await pipeline.Bus.Publish(job);
        await pipeline.Bus.Publish(job);
        await pipeline.Recorder.WaitForHandledAsync<DenoiseSeries>(handled + 2, Patience);
        await pipeline.Recorder.WaitForAsync<EvaluationCompleted>(3, Patience);
        AssertSameObjects(first, await _scope.ReadAllAsync(_scope.OutputBucket, folder), includeMarker: true);
        var announced = pipeline.Recorder.All<SeriesDenoised>();
        Assert.Equal(3, announced.Count);
        Assert.All(announced, a => Assert.Equal(announced[0].Instances, a.Instances));

        // The outputs lost (a crash before the marker, or an operator clearing them), then the job delivered twice:
        // the same keys come back with the same bytes (derived UIDs, pixels, report, montage).
        foreach (var key in first.Keys)
            await _scope.Store.DeleteAsync(_scope.OutputBucket, key);
        await pipeline.Bus.Publish(job);
        await pipeline.Bus.Publish(job);
        await pipeline.Recorder.WaitForHandledAsync<DenoiseSeries>(handled + 4, Patience);
        await pipeline.Recorder.WaitForAsync<EvaluationCompleted>(5, Patience);
        AssertSameObjects(first, await _scope.ReadAllAsync(_scope.OutputBucket, folder), includeMarker: false);
        Assert.Equal(5, pipeline.Recorder.All<SeriesDenoised>().Count); // one from the new work, one from the new marker
    }

    private static void AssertSameObjects(SortedDictionary<string, byte[]> expected, SortedDictionary<string, byte[]> actual, bool includeMarker)
    {
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (key, bytes) in expected)
        {
            // The marker records when it was written and how long each step took: the one object that may differ.
            if (!includeMarker && key.EndsWith("/complete.json", StringComparison.Ordinal)) continue;
            Assert.True(bytes.AsSpan().SequenceEqual(actual[key]), $"{key} differs");
        }
    }

    [Fact]
    public async Task Requirement_S3_events_and_the_reconciliation_scan_together_give_exactly_one_job_per_series()
    {
        var reconciles = 0;
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == "Pipeline.Ingest",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllData,
            ActivityStopped = activity => { if (activity.OperationName == "ingest.reconcile") Interlocked.Increment(ref reconciles); },
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        await using var pipeline = await PipelineHost.StartAsync(_scope, output);
        await using var notifications = await BucketNotifications.ConnectAsync(_scope);

        // Two series; every object announced twice (S3 delivers events at least once) while the scan lists them too.
        var events = 0;
        foreach (var series in new[] { "t1", "t1-noisy" })
            foreach (var file in SampleFiles(series))
            {
                var dropped = await _scope.DropAsync($"drop/events/{series}/{Path.GetFileName(file)}", await File.ReadAllBytesAsync(file));
                var info = (await _scope.Store.TryStatAsync(dropped.Bucket, dropped.Key))!;
                for (var copy = 0; copy < 2; copy++, events++)
                    await notifications.PublishObjectCreatedAsync(dropped, info.Size, info.ETag);
            }
        await pipeline.Recorder.WaitForAsync<SeriesDenoised>(2, Patience);
        await pipeline.Recorder.WaitForHandledAsync<BucketNotification>(events, Patience);

        // Both paths ran: every event was consumed, and the bucket was listed repeatedly meanwhile and after.
        var scansBefore = Volatile.Read(ref reconciles);
        await Task.Delay(PipelineScope.QuietPeriod + TimeSpan.FromSeconds(2)); // more than a quiet period and several scans
        Assert.True(scansBefore >= 2 && Volatile.Read(ref reconciles) >= scansBefore + 2, $"{scansBefore} scans, then {reconciles}");

        var jobs = pipeline.Recorder.All<DenoiseSeries>();
        Assert.Equal(2, jobs.Count);
        Assert.Equal(2, jobs.Select(j => j.SeriesInstanceUid).Distinct().Count());
        Assert.All(jobs, j => Assert.Equal((1, Slices), (j.Revision, j.Instances.Count)));
        Assert.Equal(2, pipeline.Recorder.All<SeriesDenoised>().Count);
    }
}
