using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Contracts;
using Pipeline.Denoising.Evaluation;
using Pipeline.Denoising.Models;
using Pipeline.Evaluation.Scoring;
using Pipeline.Imaging.Dicom;
using Pipeline.Imaging.Noise;
using Pipeline.Promotion;
using Pipeline.Registry;
using Pipeline.Storage;

namespace Pipeline.Evaluation.Tests;

/// <summary>EvaluationRequested end to end: models from the registry in a real local store, held-out set as DICOM objects.</summary>
[Collection(EvaluationFixture.Collection)]
public sealed class ModelScoringTests
{
    private static readonly string[] Noise = ["rician:0.05", "rician:0.1"];

    /// <summary>Publishes the bundled default model as denoiser/1 and, byte-identical, as denoiser/2; stores the held-out set.</summary>
    private static async Task<ObjectRef> PrepareAsync(EvaluationFixture fixture)
    {
        var registry = fixture.Services.GetRequiredService<ModelRegistry>();
        await registry.PublishAsync(DenoisingModel.DefaultFolder, ModelVersionId.Parse("denoiser/1"), promote: true);
        await registry.PublishAsync(DenoisingModel.DefaultFolder, ModelVersionId.Parse("denoiser/2"), promote: false);
        var instances = await fixture.Store.ListAsync("references", "colin27/t1/").Select(o => new ObjectRef("references", o.Key)).ToListAsync();
        var set = new ObjectRef("references", "held-out/sample-t1.json");
        await fixture.Store.PutBytesAsync(set.Bucket, set.Key,
            JsonSerializer.SerializeToUtf8Bytes(new HeldOutSet("sample-t1", Instances: [.. instances.AsEnumerable().Reverse()], Noise: Noise, SliceCount: 2)));
        return set;
    }

    [Fact]
    public async Task Candidate_and_baseline_are_scored_by_the_quality_protocol_and_the_reply_carries_the_request_id()
    {
        await using var fixture = await EvaluationFixture.StartAsync(registerReference: true);
        var set = await PrepareAsync(fixture);
        var request = new EvaluationRequested("denoiser/1", "denoiser/2", set, Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"));

        await fixture.DeliverAsync<EvaluationRequestedConsumer, EvaluationRequested>(request);

        var faults = fixture.Harness.Published.Select<Fault<EvaluationRequested>>().Select(f => f.Context.Message.Exceptions[0].Message).ToList();
        Assert.True(faults.Count == 0, string.Join("; ", faults));
        var completed = fixture.Harness.Published.Select<EvaluationCompleted>().Single().Context.Message;
        Assert.Equal((request.RequestId, "denoiser/1", "model-scores/denoiser/1/0f8fad5bd9cb469fa16570867728950e.json"),
            (completed.RequestId, completed.ModelVersion, completed.Report.Key));
        var report = JsonSerializer.Deserialize<ModelScoreReport>(await fixture.ReadAsync(completed.Report.Key), EvaluationReport.Json)!;
        Assert.Equal((4.0, 2.0), (completed.Summary["cases"], completed.Summary["slices"])); // dim and bright x 2 levels
        Assert.Equal(12, report.Figures.Count); // noisy, candidate, baseline per case

        // The same files under two versions: every gain is exactly zero (both went through the same path, deterministically).
        Assert.All(report.Gains!, g => Assert.Equal((0.0, 0.0), (g.PsnrGain, g.SsimGain)));
        Assert.Equal(0, completed.Summary["psnr_gain_min"]);

        // The consumer applies the library's protocol exactly: same figures as the library on the same clean series from files.
        var direct = QualityEvaluation.Run(SeriesInstance.ToVolume(SeriesInstance.ReadSeries(Path.GetDirectoryName(EvaluationFixture.CleanFiles[0])!)),
            [.. Noise.Select(NoiseModel.Parse)], [DenoisingModel.OpenOnnx(ModelFolder.Load(DenoisingModel.DefaultFolder))],
            new QualityProtocolOptions { SliceCount = 2 });
        Assert.Equal(direct.Slices, report.Slices);
        foreach (var expected in direct.Figures)
        {
            var method = expected.Method == QualityReport.Noisy ? QualityReport.Noisy : ModelScorer.Candidate;
            var actual = report.Figures.Single(f => f.Method == method && f.Scaling == expected.Scaling && f.Noise == expected.Noise);
            Assert.Equal((expected.Psnr, expected.Ssim), (actual.Psnr, actual.Ssim));
        }
        // Requirement: the report keeps each held-out slice's paired figures (the promotion gate's input), as the library
        // scored them, readable with the gate's own type.
        var pairs = JsonSerializer.Deserialize<PairedScores>(await fixture.ReadAsync(completed.Report.Key), EvaluationReport.Json)!.Pairs;
        Assert.Equal(4 * 2, pairs.Count);
        foreach (var expected in direct.Figures.Where(f => f.Method != QualityReport.Noisy))
        {
            var own = pairs.Where(p => p.Scaling == expected.Scaling && p.Noise == expected.Noise).ToList();
            Assert.Equal(direct.Slices, own.Select(p => p.Slice));
            Assert.Equal(expected.SlicePsnr, own.Select(p => p.CandidatePsnr));
            Assert.Equal(expected.SliceSsim, own.Select(p => p.BaselineSsim));
            Assert.Equal(expected.Psnr, own.Average(p => p.CandidatePsnr), 12);
        }

        // and the model does denoise: above the noisy input in every case.
        Assert.All(report.Figures.Where(f => f.Method == ModelScorer.Candidate), c =>
            Assert.True(c.Psnr > report.Figures.Single(f => f.Method == QualityReport.Noisy && f.Scaling == c.Scaling && f.Noise == c.Noise).Psnr));
    }

    [Fact]
    public async Task A_nifti_held_out_volume_is_scored_without_a_baseline()
    {
        const string colin27 = "/usr/share/mricron/templates/ch2.nii.gz"; // Debian mricron-data (infra/apt-packages.txt)
        await using var fixture = await EvaluationFixture.StartAsync(registerReference: false);
        await PrepareAsync(fixture);
        await fixture.Store.PutBytesAsync("references", "colin27/ch2.nii.gz", await File.ReadAllBytesAsync(colin27));
        var set = new ObjectRef("references", "held-out/colin27.json");
        await fixture.Store.PutBytesAsync(set.Bucket, set.Key, JsonSerializer.SerializeToUtf8Bytes(
            new HeldOutSet("colin27", Volume: new ObjectRef("references", "colin27/ch2.nii.gz"), Noise: ["rician:0.1"], SliceCount: 2, Seed: 7)));

        await fixture.DeliverAsync<EvaluationRequestedConsumer, EvaluationRequested>(new EvaluationRequested("denoiser/1", null, set, Guid.NewGuid()));

        var completed = fixture.Harness.Published.Select<EvaluationCompleted>().Single().Context.Message;
        var report = JsonSerializer.Deserialize<ModelScoreReport>(await fixture.ReadAsync(completed.Report.Key), EvaluationReport.Json)!;
        Assert.Null(report.Gains);
        Assert.Null(report.Pairs);
        Assert.False(completed.Summary.ContainsKey("psnr_gain_min"));
        var direct = QualityEvaluation.Run(Imaging.Nifti.NiftiReader.Read(colin27).Volume, [NoiseModel.Parse("rician:0.1")],
            [DenoisingModel.OpenOnnx(ModelFolder.Load(DenoisingModel.DefaultFolder))], new QualityProtocolOptions { SliceCount = 2, Seed = 7 });
        Assert.Equal(direct.Slices, report.Slices);
        var model = direct.Figures.Where(f => f.Method != QualityReport.Noisy).ToList();
        Assert.Equal(model.Select(f => (f.Scaling, f.Psnr)), report.Figures.Where(f => f.Method == ModelScorer.Candidate).Select(f => (f.Scaling, f.Psnr)));
        Assert.Equal(model.Average(f => f.Psnr), completed.Summary["candidate_psnr_mean"], 12);
    }

    [Fact]
    public async Task A_version_missing_from_the_registry_faults_with_a_failure_record_naming_it()
    {
        await using var fixture = await EvaluationFixture.StartAsync(registerReference: true);
        var set = await PrepareAsync(fixture);

        await fixture.DeliverAsync<EvaluationRequestedConsumer, EvaluationRequested>(new EvaluationRequested("denoiser/9", "denoiser/1", set, Guid.NewGuid()));

        var fault = fixture.Harness.Published.Select<Fault<EvaluationRequested>>().Single().Context.Message;
        Assert.Contains(fault.Exceptions, e => e.ExceptionType.EndsWith(nameof(ModelScoringException), StringComparison.Ordinal));
        var record = JsonSerializer.Deserialize<FailureRecord>(await fixture.ReadAsync(BucketLayout.FailureRecord(PipelineStage.Evaluation, set)))!;
        Assert.Equal((PipelineStage.Evaluation, "denoiser/9", nameof(ModelIntegrityException)), (record.Stage, record.ModelVersion, record.ErrorType));
        Assert.Contains("denoiser/9", record.Reason, StringComparison.Ordinal);
        Assert.Empty(fixture.Harness.Published.Select<EvaluationCompleted>());
    }
}
