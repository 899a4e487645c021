using System.Buffers.Binary;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using MassTransit;
using Pipeline.Contracts;
using Pipeline.Hosting;
using Pipeline.Imaging.Pictures;
using Pipeline.Imaging.Tests.Support;
using Pipeline.Storage;
using Pipeline.Testing;

namespace Pipeline.Evaluation.Tests;

/// <summary>The SeriesDenoised consumer end to end: objects in a real local store in, report, montage, metrics and reply out.</summary>
[Collection(EvaluationFixture.Collection)]
public sealed class SeriesDenoisedConsumerTests
{
    private const int Slices = 16, Rows = 217, Columns = 181;

    /// <summary>
    /// Per slice, from pixels extracted by GDCM's gdcmraw (not our decoder), scikit-image MSE/PSNR/SSIM (data range 4095)
    /// and a numpy median-absolute-residual noise estimate (Immerkaer mask, MAD / (0.6745 * 6)).
    /// </summary>
    private const string Oracle = """
        import sys, json, numpy as np
        from skimage.metrics import mean_squared_error as mse, peak_signal_noise_ratio as psnr, structural_similarity as ssim
        rows, cols, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
        files = sys.argv[4:]
        K = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], float)
        def sigma(a):
            r = sum(K[dy, dx] * a[dy:rows - 2 + dy, dx:cols - 2 + dx] for dy in range(3) for dx in range(3))
            return float(np.median(np.abs(r)) / (0.6744897501960817 * 6))
        def read(f):
            return np.fromfile(f, '<u2').reshape(rows, cols).astype(np.float64)
        def full(ref, test):
            return {'mse': float(mse(ref, test)), 'psnr': float(psnr(ref, test, data_range=4095)),
                    'ssim': float(ssim(ref, test, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=4095))}
        out = []
        for k in range(n):
            clean, noisy, derived = (read(files[3 * k + j]) for j in range(3))
            out.append({'fidelity': full(noisy, derived), 'input': full(clean, noisy), 'output': full(clean, derived),
                        'sigma_in': sigma(noisy), 'sigma_out': sigma(derived)})
        print(json.dumps(out))
        """;

    [Fact]
    public async Task Figures_equal_scikit_image_on_independently_decoded_pixels_and_the_sample_study_readme()
    {
        await using var fixture = await EvaluationFixture.StartAsync(registerReference: true);
        var measurements = new List<(string Name, double Value, Dictionary<string, object?> Tags)>();
        using var meters = ListenToMeters(measurements);
        var spans = new List<Activity>();
        using var spanListener = ListenToSpans(spans);

        await fixture.DeliverAsync();

        var report = await fixture.ReportAsync();
        var expected = await OracleAsync(fixture);
        Assert.Equal((Slices, 0, 4095.0, "MR", "position"), (report.InstancesEvaluated, report.InstancesFailed, report.DataRange, report.Modality, report.Reference!.MatchedBy));
        Assert.Equal(Slices, report.Reference.InstancesMatched);
        for (var k = 0; k < Slices; k++)
        {
            var f = report.Instances[k].Figures!;
            var e = expected[k];
            Assert.EndsWith(Path.GetFileName(EvaluationFixture.CleanFiles[k]), report.Instances[k].Reference!.Key, StringComparison.Ordinal);
            Assert.Equal(e.GetProperty("fidelity").GetProperty("psnr").GetDouble(), f.PsnrFidelity, 4);
            Assert.Equal(e.GetProperty("fidelity").GetProperty("ssim").GetDouble(), f.SsimFidelity, 4);
            Assert.Equal(e.GetProperty("input").GetProperty("psnr").GetDouble(), f.PsnrReferenceInput!.Value, 4);
            Assert.Equal(e.GetProperty("input").GetProperty("ssim").GetDouble(), f.SsimReferenceInput!.Value, 4);
            Assert.Equal(e.GetProperty("output").GetProperty("psnr").GetDouble(), f.PsnrReferenceOutput!.Value, 4);
            Assert.Equal(e.GetProperty("output").GetProperty("ssim").GetDouble(), f.SsimReferenceOutput!.Value, 4);
            Assert.Equal(1, f.MseReferenceInput!.Value / e.GetProperty("input").GetProperty("mse").GetDouble(), 6);
            Assert.Equal(1, f.MseReferenceOutput!.Value / e.GetProperty("output").GetProperty("mse").GetDouble(), 6);
            Assert.Equal(1, f.NoiseSigmaInput / e.GetProperty("sigma_in").GetDouble(), 4);
            Assert.Equal(1, f.NoiseSigmaOutput / e.GetProperty("sigma_out").GetDouble(), 4);
        }
        var series = report.Series!;
        // The sample study's README: `pipeline metrics t1 t1-noisy` gives mean PSNR 24.99 dB, SSIM 0.613.
        Assert.Equal(24.99, Math.Round(series.PsnrReferenceInput!.Value, 2));
        Assert.Equal(0.613, Math.Round(series.SsimReferenceInput!.Value, 3));
        Assert.Equal(expected.Average(e => e.GetProperty("output").GetProperty("psnr").GetDouble()), series.PsnrReferenceOutput!.Value, 4);
        // Halving the noise amplitude gains 20 log10(2) = 6.02 dB (a little less: rounding and Rician bias).
        Assert.InRange(series.PsnrReferenceGain!.Value, 5.5, 6.1);

        var completed = fixture.Harness.Published.Select<EvaluationCompleted>().Single().Context.Message;
        Assert.Equal((fixture.Job.SourceSeriesInstanceUid, fixture.ReportKey, fixture.MontageKey),
            (completed.SeriesInstanceUid, completed.Report.Key, completed.Montage!.Key));
        Assert.Equal(series.PsnrReferenceGain.Value, completed.Summary["psnr_reference_gain"]);
        Assert.Equal(series.NoiseSigmaOutput, completed.Summary["noise_sigma_output"]);
        Assert.Equal(Slices, completed.Summary["instances_evaluated"]);

        var gain = measurements.Single(m => m.Name == "pipeline.evaluation.reference.psnr_gain");
        Assert.Equal(series.PsnrReferenceGain.Value, gain.Value, 9);
        var sigmaOut = measurements.Single(m => m.Name == "pipeline.evaluation.noise.sigma" && Equals(m.Tags["image"], "output"));
        Assert.Equal(100 * series.NoiseSigmaOutput / 4095, sigmaOut.Value, 9);
        Assert.All(measurements, m => Assert.Subset(new HashSet<string> { "model_version", "modality", "image", "outcome" }, m.Tags.Keys.ToHashSet()));
        Assert.All(measurements, m => Assert.Equal((EvaluationFixture.ModelVersion, "MR"), ((string)m.Tags["model_version"]!, (string)m.Tags["modality"]!)));
        var span = spans.Single(s => s.OperationName == "evaluation.series");
        Assert.Equal(fixture.Job.SourceSeriesInstanceUid, span.GetTagItem("pipeline.series"));
        Assert.DoesNotContain(span.TagObjects, t => t.Value?.ToString()?.Contains("COLIN27", StringComparison.OrdinalIgnoreCase) == true);
    }

    [Fact]
    public async Task A_corrupt_or_missing_derived_object_fails_alone_with_its_reason_in_the_report()
    {
        await using var fixture = await EvaluationFixture.StartAsync(registerReference: false);
        var corrupt = fixture.Job.Instances[3].Derived;
        var missing = fixture.Job.Instances[9].Derived;
        await fixture.Store.PutBytesAsync(corrupt.Bucket, corrupt.Key, "this is not DICOM"u8.ToArray());
        await fixture.Store.DeleteAsync(missing.Bucket, missing.Key);

        await fixture.DeliverAsync();

        var report = await fixture.ReportAsync();
        Assert.Equal((Slices - 2, 2), (report.InstancesEvaluated, report.InstancesFailed));
        Assert.StartsWith("derived: not a readable DICOM image", report.Instances[3].Failure, StringComparison.Ordinal);
        Assert.Equal("derived: object not found", report.Instances[9].Failure);
        Assert.Null(report.Instances[3].Figures);
        Assert.All(report.Instances.Where((_, k) => k is not 3 and not 9), i => Assert.Null(i.Failure));
        Assert.Equal(report.Instances.Where(i => i.Figures is not null).Average(i => i.Figures!.PsnrFidelity), report.Series!.PsnrFidelity, 9);
        Assert.Null(report.Reference);
        Assert.Null(report.Series.PsnrReferenceInput); // no registered reference: no full-reference figures
        var completed = fixture.Harness.Published.Select<EvaluationCompleted>().Single().Context.Message;
        Assert.Equal(2, completed.Summary["instances_failed"]);
        Assert.False(completed.Summary.ContainsKey("psnr_reference_input"));
    }

    [Fact]
    public async Task A_redelivered_message_rewrites_byte_identical_report_and_montage()
    {
        await using var fixture = await EvaluationFixture.StartAsync(registerReference: true);
        await fixture.DeliverAsync();
        var report = await fixture.ReadAsync(fixture.ReportKey);
        var montage = await fixture.ReadAsync(fixture.MontageKey);
        await fixture.Store.DeleteAsync(EvaluationFixture.Output, fixture.ReportKey);

        await fixture.DeliverAsync();

        Assert.Equal(report, await fixture.ReadAsync(fixture.ReportKey));
        Assert.Equal(montage, await fixture.ReadAsync(fixture.MontageKey));
        Assert.Equal(2, fixture.Harness.Published.Select<EvaluationCompleted>().Count());
    }

    [Fact]
    public async Task The_montage_is_a_png_with_the_documented_layout_of_the_configured_slices()
    {
        await using var fixture = await EvaluationFixture.StartAsync(registerReference: false, montageSlices: 2);
        await fixture.DeliverAsync();

        var png = await fixture.ReadAsync(fixture.MontageKey);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Assert.Equal("IHDR"u8.ToArray(), png[12..16]);
        // 181x217 panels (no zoom: the long side is >= 160), 3 columns, 2 rows: see SeriesMontage's layout.
        Assert.Equal(72 + 3 * (181 + 8) + 8, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(28 + 2 * (217 + 8) + 24, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
        var report = await fixture.ReportAsync();
        Assert.Equal([5, 10], report.Montage!.Instances); // k * 16 / 3 for k = 1, 2
        Assert.Equal(fixture.MontageKey, report.Montage.Image.Key);
        var derived = new List<byte[]>();
        foreach (var pair in fixture.Job.Instances) derived.Add(await fixture.Store.GetBytesAsync(pair.Derived.Bucket, pair.Derived.Key));
        Assert.Equal(png, SeriesMontage.Render(Volume(EvaluationFixture.NoisyFiles.Select(File.ReadAllBytes)), Volume(derived), [5, 10]));
    }

    [Fact]
    public async Task A_series_with_no_readable_object_gets_a_failure_record_and_goes_to_the_error_queue()
    {
        await using var fixture = await EvaluationFixture.StartAsync(registerReference: false);
        foreach (var pair in fixture.Job.Instances)
            await fixture.Store.PutBytesAsync(pair.Source.Bucket, pair.Source.Key, [1, 2, 3]);

        await fixture.DeliverAsync();

        var fault = fixture.Harness.Published.Select<Fault<SeriesDenoised>>().Single().Context.Message;
        Assert.Contains(fault.Exceptions, e => e.ExceptionType.EndsWith(nameof(SeriesNotEvaluableException), StringComparison.Ordinal));
        var key = BucketLayout.FailureRecord(PipelineStage.Evaluation, fixture.Job.Instances[0].Source);
        var record = JsonSerializer.Deserialize<FailureRecord>(await fixture.ReadAsync(key))!;
        Assert.Equal((PipelineStage.Evaluation, fixture.Job.SourceSeriesInstanceUid, EvaluationFixture.ModelVersion),
            (record.Stage, record.SeriesInstanceUid, record.ModelVersion));
        Assert.StartsWith($"none of the {Slices} instances could be evaluated; first: source: not a readable DICOM image", record.Reason, StringComparison.Ordinal);
        Assert.False(await fixture.Store.ExistsAsync(EvaluationFixture.Output, fixture.ReportKey));
        Assert.Empty(fixture.Harness.Published.Select<EvaluationCompleted>());
    }

    [Fact]
    public async Task Images_smaller_than_the_ssim_window_fail_with_a_specific_reason()
    {
        await using var fixture = await EvaluationFixture.StartAsync(registerReference: false);
        var pairs = new List<DenoisedInstance>();
        for (var i = 1; i <= 2; i++)
        {
            var file = Dicom.MrImage.Create(new Dicom.MrImageSpec
            {
                StudyInstanceUid = "2.25.1", SeriesInstanceUid = "2.25.2", SopInstanceUid = $"2.25.2.{i}", FrameOfReferenceUid = "2.25.3",
                InstanceNumber = i, Rows = 8, Columns = 8,
                Plane = new Dicom.ImagePlane { PositionPatient = [0, 0, i], OrientationPatient = [1, 0, 0, 0, 1, 0], PixelSpacing = [1, 1] },
            }, [.. Enumerable.Range(0, 64).Select(v => (float)v)]);
            using var buffer = new MemoryStream();
            file.Save(buffer);
            var pair = new DenoisedInstance(new ObjectRef("incoming", $"tiny/{i}.dcm"), new ObjectRef(EvaluationFixture.Output, $"tiny/derived/{i}.dcm"));
            await fixture.Store.PutBytesAsync(pair.Source.Bucket, pair.Source.Key, buffer.ToArray());
            await fixture.Store.PutBytesAsync(pair.Derived.Bucket, pair.Derived.Key, buffer.ToArray());
            pairs.Add(pair);
        }

        await fixture.DeliverAsync(fixture.Job with { Instances = pairs });

        Assert.Single(fixture.Harness.Published.Select<Fault<SeriesDenoised>>());
        var record = JsonSerializer.Deserialize<FailureRecord>(await fixture.ReadAsync(BucketLayout.FailureRecord(PipelineStage.Evaluation, pairs[0].Source)))!;
        Assert.Equal("none of the 2 instances could be evaluated; first: cannot be measured: SSIM needs images of at least 11x11, got 8x8",
            record.Reason);
    }

    [Fact]
    public async Task A_job_whose_outputs_belong_to_a_later_revision_is_skipped()
    {
        await using var fixture = await EvaluationFixture.StartAsync(registerReference: false);
        var job = fixture.Job;
        var marker = new SeriesCompletion(job.StudyInstanceUid, job.SourceSeriesInstanceUid, job.DerivedSeriesInstanceUid, job.ModelVersion,
            Revision: 2, null, job.Instances, [], DateTimeOffset.UnixEpoch, new Dictionary<string, double>());
        await fixture.Store.PutBytesAsync(job.CompletionMarker.Bucket, job.CompletionMarker.Key, JsonSerializer.SerializeToUtf8Bytes(marker));

        await fixture.DeliverAsync(job with { Revision = 1 });
        Assert.False(await fixture.Store.ExistsAsync(EvaluationFixture.Output, fixture.ReportKey));
        Assert.Empty(fixture.Harness.Published.Select<EvaluationCompleted>());

        await fixture.DeliverAsync(job with { Revision = 2 });
        Assert.Equal(2, (await fixture.ReportAsync()).Revision);
    }

    [Fact]
    public async Task Reference_instances_are_matched_by_slice_position_and_an_unreadable_or_missing_one_is_reported()
    {
        await using var fixture = await EvaluationFixture.StartAsync(registerReference: true);
        var job = fixture.Job;
        var registrationKey = BucketLayout.Reference(job.StudyInstanceUid, job.SourceSeriesInstanceUid);
        var registration = JsonSerializer.Deserialize<CleanReference>(await fixture.ReadAsync(registrationKey))!;
        // Drop the reference of the last slice (listed first: reversed) and add one that is not DICOM.
        var broken = new ObjectRef("references", "colin27/t1/broken.dcm");
        await fixture.Store.PutBytesAsync(broken.Bucket, broken.Key, [0, 1, 2, 3]);
        await fixture.Store.PutBytesAsync(EvaluationFixture.Output, registrationKey,
            JsonSerializer.SerializeToUtf8Bytes(new CleanReference([.. registration.Instances.Skip(1), broken])));

        await fixture.DeliverAsync();

        var report = await fixture.ReportAsync();
        Assert.Equal((Slices - 1, "position"), (report.Reference!.InstancesMatched, report.Reference.MatchedBy));
        Assert.Equal(broken, Assert.Single(report.Reference.Unreadable).Object);
        Assert.Equal("0 reference instances at slice position 26 mm (need exactly 1)", report.Instances[^1].ReferenceProblem);
        Assert.Null(report.Instances[^1].Figures!.PsnrReferenceInput);
        Assert.True(double.IsFinite(report.Instances[^1].Figures!.PsnrFidelity));
        Assert.Equal(Slices, report.InstancesEvaluated);
    }

    [Fact]
    public void Settings_are_validated_with_the_setting_name()
    {
        var failures = ValidatedOptions.Validate(new EvaluationOptions { MontageSlices = 0 }, EvaluationOptions.Section);
        Assert.Contains(failures, f => f.StartsWith("setting 'Evaluation:MontageSlices' (environment variable Evaluation__MontageSlices)", StringComparison.Ordinal));
    }

    private static Imaging.Volume Volume(IEnumerable<byte[]> objects) =>
        new([.. objects.Select(b => Imaging.Dicom.DicomImages.ToImage(Dicom.DicomFile.Open(b)))], Imaging.VolumeGeometry.Identity());

    /// <summary>Extracts clean, noisy and derived pixels of every slice with gdcmraw and runs the scikit-image oracle.</summary>
    private static async Task<List<JsonElement>> OracleAsync(EvaluationFixture fixture)
    {
        using var folder = new TempDir();
        var files = new List<string>();
        for (var k = 0; k < Slices; k++)
        {
            var derived = fixture.Job.Instances[k].Derived;
            var derivedFile = folder.File($"derived{k}.dcm");
            await File.WriteAllBytesAsync(derivedFile, await fixture.Store.GetBytesAsync(derived.Bucket, derived.Key));
            foreach (var (name, dicom) in new[] { ("clean", EvaluationFixture.CleanFiles[k]), ("noisy", EvaluationFixture.NoisyFiles[k]), ("derived", derivedFile) })
            {
                var raw = folder.File($"{name}{k}.raw");
                ExternalTool.Ok("gdcmraw", "-i", dicom, "-o", raw);
                files.Add(raw);
            }
        }
        var result = Python.Run(Oracle, [$"{Rows}", $"{Columns}", $"{Slices}", .. files]);
        return [.. result.EnumerateArray()];
    }

    private static MeterListener ListenToMeters(List<(string, double, Dictionary<string, object?>)> into)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == EvaluationTelemetry.Name) l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => { lock (into) into.Add((i.Name, v, Tags(tags))); });
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => { lock (into) into.Add((i.Name, v, Tags(tags))); });
        listener.Start();
        return listener;
    }

    private static Dictionary<string, object?> Tags(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var result = new Dictionary<string, object?>();
        foreach (var t in tags) result[t.Key] = t.Value;
        return result;
    }

    private static ActivityListener ListenToSpans(List<Activity> into)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == EvaluationTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { lock (into) into.Add(a); },
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
