using System.Text.Json;
using Pipeline.Contracts;
using Pipeline.Dicom;
using Pipeline.Evaluation;
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

    private static string[] SampleFiles(string series) =>
        Directory.GetFiles(Path.Combine(SampleData.SampleStudy, series)).Order(StringComparer.Ordinal).ToArray();

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
        foreach (var (key, file) in dropped)
            await _scope.DropAsync(key, await File.ReadAllBytesAsync(file));

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
            Assert.Equal((1, 16), (marker.Revision, marker.Instances.Count));
            Assert.Empty(marker.FailedInstances);
            // Every dropped instance of the series is in it, in slice order (the sample's files are numbered along the slice axis).
            Assert.Equal(files.Select(f => $"drop/colin27/{series}/{Path.GetFileName(f)}"), marker.Instances.Select(i => i.Source.Key));

            // The derived instances are exactly the marker's, in the revision folder; report and montage sit beside the marker.
            var folder = BucketLayout.DerivedInstancesFolder(study, uid, ModelVersion);
            Assert.Equal(marker.Instances.Select(i => i.Derived.Key).Order(StringComparer.Ordinal), await _scope.KeysAsync(_scope.OutputBucket, folder));
            Assert.All(marker.Instances, i => Assert.StartsWith(BucketLayout.RevisionFolder(study, uid, ModelVersion, 1), i.Derived.Key));
            var report = JsonSerializer.Deserialize<EvaluationReport>(
                await _scope.Store.GetBytesAsync(_scope.OutputBucket, BucketLayout.Report(study, uid, ModelVersion)), EvaluationReport.Json)!;
            Assert.Equal((uid, marker.DerivedSeriesInstanceUid, 16, 0), (report.SourceSeriesInstanceUid, report.DerivedSeriesInstanceUid, report.InstancesEvaluated, report.InstancesFailed));
            var montage = await _scope.Store.GetBytesAsync(_scope.OutputBucket, BucketLayout.Montage(study, uid, ModelVersion));
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, montage[..8]);

            // Each derived file passes the IOD validator (dicom3tools) and belongs to the source study.
            foreach (var instance in marker.Instances)
            {
                var path = Path.Combine(dir.Path, Path.GetFileName(instance.Derived.Key));
                await File.WriteAllBytesAsync(path, await _scope.Store.GetBytesAsync(_scope.OutputBucket, instance.Derived.Key));
                var check = ExternalTool.Run("dciodvfy", path);
                var errors = (check.StdErr + check.StdOut).Split('\n').Where(l => l.StartsWith("Error", StringComparison.Ordinal)).ToList();
                Assert.True(errors.Count == 0, $"{instance.Derived.Key}:\n{string.Join('\n', errors)}");
                var dump = ExternalTool.Ok("dcmdump", "-Un", "+P", "0020,000D", "+P", "0020,000E", path);
                Assert.Contains($"[{study}]", dump, StringComparison.Ordinal);
                Assert.Contains($"[{marker.DerivedSeriesInstanceUid}]", dump, StringComparison.Ordinal);
            }
        }

        // The input bucket holds exactly what was dropped, byte for byte.
        var inputs = await _scope.ReadAllAsync(_scope.InputBucket);
        Assert.Equal(dropped.Keys.Order(StringComparer.Ordinal), inputs.Keys);
        foreach (var (key, file) in dropped)
            Assert.True((await File.ReadAllBytesAsync(file)).AsSpan().SequenceEqual(inputs[key]), $"input {key} was modified");
    }
}
