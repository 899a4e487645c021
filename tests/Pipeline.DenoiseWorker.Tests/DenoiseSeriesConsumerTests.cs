using System.Security.Cryptography;
using System.Text.Json;
using MassTransit;
using MassTransit.Testing;
using Pipeline.Contracts;
using Pipeline.Denoising.Models;
using Pipeline.Dicom;
using Pipeline.Imaging.Dicom;
using Pipeline.Imaging.Noise;
using Pipeline.Registry;
using Pipeline.Storage;

namespace Pipeline.DenoiseWorker.Tests;

/// <summary>The denoise worker's job, end to end in one process: real store, real model, real DICOM.</summary>
public sealed class DenoiseSeriesConsumerTests : IAsyncLifetime
{
    private WorkerFixture _w = null!;

    public async Task InitializeAsync() => _w = await WorkerFixture.StartAsync();

    public async Task DisposeAsync() => await _w.DisposeAsync();

    private async Task<SeriesCompletion> MarkerAsync(string modelVersion = "denoiser/1") =>
        JsonSerializer.Deserialize<SeriesCompletion>(await _w.Store.GetBytesAsync("denoised", _w.MarkerKey(modelVersion)))!;

    [Fact]
    public async Task A_job_writes_a_valid_less_noisy_derived_series_then_its_marker_and_announces_it()
    {
        var inputHashes = await Task.WhenAll(_w.Instances.Select(async i => Convert.ToHexString(SHA256.HashData(await _w.Store.GetBytesAsync(i.Bucket, i.Key)))));

        await _w.RunAsync(_w.Job());

        var marker = await MarkerAsync();
        Assert.Equal(16, marker.Instances.Count);
        Assert.Empty(marker.FailedInstances);
        Assert.Equal(_w.Instances, marker.Instances.Select(i => i.Source)); // slice order kept
        var folder = BucketLayout.RevisionFolder(_w.StudyUid, _w.SeriesUid, "denoiser/1", 1);
        Assert.All(marker.Instances, i => Assert.StartsWith(folder, i.Derived.Key));
        Assert.Equal(marker.Instances.Select(i => i.Derived.Key).Order(StringComparer.Ordinal), await _w.KeysAsync(folder));
        // The marker was written after every instance (the local store's files carry their write times).
        var markerTime = File.GetLastWriteTimeUtc(_w.LocalPath("denoised", _w.MarkerKey()));
        Assert.All(marker.Instances, i => Assert.True(File.GetLastWriteTimeUtc(_w.LocalPath("denoised", i.Derived.Key)) <= markerTime));

        var announced = Assert.Single(_w.Harness.Published.Select<SeriesDenoised>()).Context.Message;
        Assert.Equal(marker.Instances, announced.Instances);
        Assert.Equal(new ObjectRef("denoised", _w.MarkerKey()), announced.CompletionMarker);
        Assert.Equal(marker.DerivedSeriesInstanceUid, announced.DerivedSeriesInstanceUid);

        // Closer to the clean series than the noisy input was (full-reference, data range 4095).
        using var dir = new TempDir();
        foreach (var i in marker.Instances)
            await File.WriteAllBytesAsync(Path.Combine(dir.Path, Path.GetFileName(i.Derived.Key)), await _w.Store.GetBytesAsync("denoised", i.Derived.Key));
        var clean = SeriesInstance.ReadSeries(Path.Combine(SampleData.SampleStudy, "t1"));
        var noisy = SeriesComparison.Compare(clean, SeriesInstance.ReadSeries(Path.Combine(SampleData.SampleStudy, "t1-noisy")));
        var denoised = SeriesComparison.Compare(clean, SeriesInstance.ReadSeries(dir.Path));
        Assert.True(denoised.MeanPsnr > noisy.MeanPsnr + 0.5, $"PSNR noisy {noisy.MeanPsnr:F2} dB, denoised {denoised.MeanPsnr:F2} dB");
        Assert.True(marker.Metrics!["noise_sigma_output"] < marker.Metrics["noise_sigma_input"], $"noise {marker.Metrics["noise_sigma_input"]} -> {marker.Metrics["noise_sigma_output"]}");
        // The input figure is the mean estimate over 8 evenly spaced sources: every other one of these 16.
        var sampled = await Task.WhenAll(_w.Instances.Where((_, k) => k % 2 == 0)
            .Select(async i => NoiseEstimator.Estimate(DicomImages.ToImage(DicomFile.Open(await _w.Store.GetBytesAsync(i.Bucket, i.Key)), 0))));
        Assert.Equal(sampled.Average(), marker.Metrics["noise_sigma_input"], 9);


        // An independent validator accepts the derived object; dcmtk shows what made it.
        var path = Directory.GetFiles(dir.Path)[0];
        var check = ExternalTool.Run("dciodvfy", path);
        var errors = (check.StdErr + check.StdOut).Split('\n').Where(l => l.StartsWith("Error", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 0, string.Join('\n', errors));
        var dump = ExternalTool.Ok("dcmdump", "-Un", path);
        var architecture = ModelFolder.Load(DenoisingModel.DefaultFolder).Manifest.Architecture.Name; // the bundled model's
        Assert.Contains($"(0008,1090) LO [denoiser ({architecture})]", dump);
        Assert.Contains("(0018,1020) LO [denoiser/1]", dump);
        Assert.Contains("NOT FOR DIAGNOSTIC USE]", dump);
        Assert.Contains(@"(0008,0008) CS [DERIVED\SECONDARY", dump);
        Assert.Contains($"denoiser/1 ({architecture})", dump); // derivation description

        // Inputs are never modified.
        var after = await Task.WhenAll(_w.Instances.Select(async i => Convert.ToHexString(SHA256.HashData(await _w.Store.GetBytesAsync(i.Bucket, i.Key)))));
        Assert.Equal(inputHashes, after);
    }

    [Fact]
    public async Task A_redelivered_job_rewrites_byte_identical_instances_and_a_done_job_is_acknowledged_without_work()
    {
        await _w.RunAsync(_w.Job());
        var first = (await MarkerAsync()).Instances;
        var bytes = await Task.WhenAll(first.Select(i => _w.Store.GetBytesAsync("denoised", i.Derived.Key)));

        // Same job again with its marker present: nothing is rewritten; the series is announced again from
        // the marker (a worker may have died between writing the marker and publishing).
        var markerWritten = File.GetLastWriteTimeUtc(_w.LocalPath("denoised", _w.MarkerKey()));
        await _w.RunAsync(_w.Job());
        Assert.Equal(markerWritten, File.GetLastWriteTimeUtc(_w.LocalPath("denoised", _w.MarkerKey())));
        var announcements = _w.Harness.Published.Select<SeriesDenoised>().Select(p => p.Context.Message).ToList();
        Assert.Equal(2, announcements.Count);
        Assert.Equal(announcements[0].Instances, announcements[1].Instances);
        Assert.Equal(announcements[0].CompletionMarker, announcements[1].CompletionMarker);

        // Redelivered after a crash before the marker: same keys, same bytes.
        await _w.Store.DeleteAsync("denoised", _w.MarkerKey());
        foreach (var i in first) await _w.Store.DeleteAsync("denoised", i.Derived.Key);
        await _w.RunAsync(_w.Job());
        var second = (await MarkerAsync()).Instances;
        Assert.Equal(first, second);
        for (var k = 0; k < first.Count; k++)
            Assert.Equal(bytes[k], await _w.Store.GetBytesAsync("denoised", second[k].Derived.Key));
    }

    [Fact]
    public async Task A_corrupt_and_a_vanished_instance_fail_alone_with_reasons_and_the_rest_is_written()
    {
        var corrupt = new ObjectRef("incoming", "study/t1-noisy/broken.dcm");
        await _w.Store.PutBytesAsync("incoming", corrupt.Key, [.. (await _w.Store.GetBytesAsync("incoming", _w.Instances[3].Key)).Take(300)]);
        var vanished = new ObjectRef("incoming", "study/t1-noisy/gone.dcm");
        List<ObjectRef> instances = [.. _w.Instances[..8], corrupt, vanished, .. _w.Instances[8..]];

        await _w.RunAsync(_w.Job(instances));

        var marker = await MarkerAsync();
        Assert.Equal(16, marker.Instances.Count);
        Assert.Equal([corrupt, vanished], marker.FailedInstances);
        foreach (var (source, expected) in new[] { (corrupt, "not a readable DICOM instance"), (vanished, "no longer exists") })
        {
            var record = JsonSerializer.Deserialize<FailureRecord>(await _w.Store.GetBytesAsync("denoised", BucketLayout.FailureRecord(PipelineStage.Denoise, source)))!;
            Assert.Equal(source, record.Source);
            Assert.Contains(expected, record.Reason);
            Assert.Equal(_w.SeriesUid, record.SeriesInstanceUid);
        }
        Assert.Equal(2, _w.Harness.Published.Select<InstanceFailed>().Count());
        Assert.Equal(2, Assert.Single(_w.Harness.Published.Select<SeriesDenoised>()).Context.Message.FailedInstances);
    }

    [Fact]
    public async Task An_object_past_the_object_size_limit_is_refused_and_fails_alone()
    {
        // Requirement: the worker never buffers an object larger than Limits:MaxObjectBytes (its download stops at the limit).
        var large = new ObjectRef("incoming", "study/t1-noisy/large.dcm");
        var slice = await _w.Store.GetBytesAsync("incoming", _w.Instances[0].Key);
        await _w.Store.PutBytesAsync("incoming", large.Key, [.. slice, .. new byte[slice.Length]]);
        _w.Limits.MaxObjectBytes = slice.Length + 1;

        await _w.RunAsync(_w.Job([.. _w.Instances, large]));

        var marker = await MarkerAsync();
        Assert.Equal(16, marker.Instances.Count);
        Assert.Equal([large], marker.FailedInstances);
        var record = JsonSerializer.Deserialize<FailureRecord>(await _w.Store.GetBytesAsync("denoised", BucketLayout.FailureRecord(PipelineStage.Denoise, large)))!;
        Assert.StartsWith("refused: the object is larger than the object-size limit of ", record.Reason, StringComparison.Ordinal);
        Assert.Contains("(MaxObjectBytes)", record.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reopened_series_replaces_its_outputs_as_a_whole()
    {
        await _w.RunAsync(_w.Job(_w.Instances[..12], revision: 1));
        Assert.Equal(12, (await MarkerAsync()).Instances.Count);

        await _w.RunAsync(_w.Job(_w.Instances, revision: 2));

        var marker = await MarkerAsync();
        Assert.Equal((2, 16), (marker.Revision, marker.Instances.Count));
        var all = await _w.KeysAsync(BucketLayout.DerivedInstancesFolder(_w.StudyUid, _w.SeriesUid, "denoiser/1"));
        Assert.Equal(marker.Instances.Select(i => i.Derived.Key).Order(StringComparer.Ordinal), all); // revision 1 is gone

        // A stale revision-1 job arriving late changes nothing.
        await _w.RunAsync(_w.Job(_w.Instances[..12], revision: 1));
        Assert.Equal(2, (await MarkerAsync()).Revision);
    }

    [Fact]
    public async Task A_job_for_a_newly_promoted_version_uses_it_without_a_restart()
    {
        await _w.RunAsync(_w.Job());
        await _w.Registry.PublishAsync(DenoisingModel.DefaultFolder, new ModelVersionId("denoiser", "2"), promote: true);
        var manifest = ModelFolder.Load(DenoisingModel.DefaultFolder).Manifest;
        await _w.RunAsync(new ModelVersionPublished("denoiser/2", new ObjectRef("models", "denoiser/versions/2/manifest.json"),
            manifest.Files.Onnx.Sha256, manifest.Files.Weights.Sha256));
        Assert.False(await _w.Harness.Published.Any<Fault<ModelVersionPublished>>());

        await _w.RunAsync(_w.Job(modelVersion: "denoiser/2"));

        var marker = await MarkerAsync("denoiser/2");
        Assert.Equal(16, marker.Instances.Count);
        var derived = DicomFile.Open(await _w.Store.GetBytesAsync("denoised", marker.Instances[0].Derived.Key));
        Assert.Equal("denoiser/2", derived.Dataset.GetString(DicomTags.SoftwareVersions));
    }

    [Fact]
    public async Task An_announced_version_whose_hashes_differ_from_the_registry_is_refused()
    {
        await _w.RunAsync(new ModelVersionPublished("denoiser/1", new ObjectRef("models", "denoiser/versions/1/manifest.json"),
            new string('0', 64), new string('0', 64)));

        Assert.True(await _w.Harness.Published.Any<Fault<ModelVersionPublished>>());
        var fault = _w.Harness.Published.Select<Fault<ModelVersionPublished>>().First().Context.Message;
        Assert.Contains("does not match the published SHA-256", fault.Exceptions[0].Message);
    }

    [Fact]
    public async Task A_job_that_cannot_run_faults_and_leaves_a_failure_record_where_operators_look()
    {
        await _w.RunAsync(_w.Job(modelVersion: "denoiser/9"));

        Assert.True(await _w.Harness.Published.Any<Fault<DenoiseSeries>>());
        Assert.True(await _w.Harness.Consumed.Any<Fault<DenoiseSeries>>());
        await _w.Harness.InactivityTask;
        var record = JsonSerializer.Deserialize<FailureRecord>(await _w.Store.GetBytesAsync("denoised", BucketLayout.FailureRecord(PipelineStage.Denoise, _w.Instances[0])))!;
        Assert.Contains("denoiser/9 is not in the registry", record.Reason);
        Assert.Equal("ModelIntegrityException", record.ErrorType);
        Assert.False(await _w.Store.ExistsAsync("denoised", _w.MarkerKey("denoiser/9")));
    }
}
