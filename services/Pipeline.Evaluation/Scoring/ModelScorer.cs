using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.Hosting;
using Pipeline.Denoising.Baselines;
using Pipeline.Denoising.Evaluation;
using Pipeline.Denoising.Inference;
using Pipeline.Denoising.Models;
using Pipeline.Dicom;
using Pipeline.Imaging;
using Pipeline.Imaging.Dicom;
using Pipeline.Imaging.Nifti;
using Pipeline.Imaging.Noise;
using Pipeline.Registry;
using Pipeline.Storage;

namespace Pipeline.Evaluation.Scoring;

/// <summary>
/// Answers <see cref="EvaluationRequested"/>: opens the candidate and baseline versions from the model registry (SHA-256
/// verified), runs the denoising library's quality protocol on the held-out set with both (and the noisy input), writes
/// the report and returns the figures. Deterministic: the same request rewrites the same report bytes.
/// </summary>
internal sealed partial class ModelScorer(
    IObjectStore store,
    ModelRegistry registry,
    IOptions<StorageOptions> storage,
    TimeProvider clock,
    ILogger<ModelScorer> logger)
{
    public const string Candidate = "candidate", Baseline = "baseline";

    private readonly string _outputBucket = storage.Value.OutputBucket;

    /// <exception cref="ModelScoringException">The held-out set or a model version is unusable; a failure record was written first.</exception>
    public async Task<EvaluationCompleted> ScoreAsync(EvaluationRequested request, int attempt, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var activity = EvaluationTelemetry.Source.StartActivity("evaluation.model-score");
        activity?.SetTag("pipeline.model_version", request.CandidateModelVersion);
        activity?.SetTag("pipeline.baseline_model_version", request.BaselineModelVersion);
        activity?.SetTag("pipeline.request_id", request.RequestId);

        HeldOutSet set;
        Volume volume;
        List<NoiseModel> levels;
        var methods = new List<ISeriesDenoiser>();
        try
        {
            set = await ReadJsonAsync<HeldOutSet>(request.HeldOutSet, ct);
            volume = await ReadVolumeAsync(set, ct);
            levels = [.. set.Noise?.Select(NoiseModel.Parse) ?? QualityProtocol.NoiseLevels];
            methods.Add(await OpenAsync(Candidate, request.CandidateModelVersion, ct));
            if (request.BaselineModelVersion is { } baseline) methods.Add(await OpenAsync(Baseline, baseline, ct));
        }
        catch (Exception e) when (e is ModelIntegrityException or InvalidDataException or FormatException or JsonException or DicomException
            or ObjectNotFoundException or ArgumentException)
        {
            Dispose(methods);
            throw await FailAsync(request, e.Message, e.GetType().Name, attempt, ct);
        }

        var protocol = new QualityProtocolOptions
        {
            SliceCount = set.SliceCount ?? new QualityProtocolOptions().SliceCount,
            Seed = set.Seed ?? new QualityProtocolOptions().Seed,
        };
        QualityReport scored;
        try
        {
            scored = QualityEvaluation.Run(volume, levels, methods, protocol);
        }
        catch (ArgumentException e)
        {
            throw await FailAsync(request, $"the held-out set does not fit the quality protocol: {e.Message}", e.GetType().Name, attempt, ct);
        }
        finally
        {
            Dispose(methods);
        }

        var report = ModelScoreReport.From(request, set, protocol.DataRange, scored);
        var reportRef = new ObjectRef(_outputBucket, BucketLayout.ModelScore(request.CandidateModelVersion, request.RequestId));
        await store.PutBytesAsync(reportRef.Bucket, reportRef.Key, JsonSerializer.SerializeToUtf8Bytes(report, EvaluationReport.Json),
            new ObjectWriteOptions("application/json"), ct);
        EvaluationTelemetry.ModelScored(request.CandidateModelVersion, "scored");
        LogScored(logger, request.CandidateModelVersion, request.BaselineModelVersion ?? "none", report.Summary.GetValueOrDefault("psnr_gain_min", double.NaN));
        return new EvaluationCompleted(null, null, request.CandidateModelVersion, reportRef, null, report.Summary, request.RequestId);
    }

    private async Task<T> ReadJsonAsync<T>(ObjectRef obj, CancellationToken ct) =>
        JsonSerializer.Deserialize<T>(await store.GetBytesAsync(obj.Bucket, obj.Key, cancellationToken: ct), ContractJson.Options)
        ?? throw new InvalidDataException($"{obj} is empty");

    private async Task<Volume> ReadVolumeAsync(HeldOutSet set, CancellationToken ct)
    {
        if (set.Volume is { } nifti)
            return NiftiReader.Read(new MemoryStream(await store.GetBytesAsync(nifti.Bucket, nifti.Key, cancellationToken: ct), writable: false)).Volume;
        if (set.Instances is not { Count: > 0 } instances)
            throw new InvalidDataException($"held-out set '{set.Name}' names neither a volume nor instances");
        var series = new List<SeriesInstance>();
        foreach (var obj in instances)
            series.Add(SeriesInstance.From(DicomFile.Open(await store.GetBytesAsync(obj.Bucket, obj.Key, cancellationToken: ct)), obj.ToString()));
        return SeriesInstance.ToVolume(SeriesInstance.Order(series));
    }

    private async Task<ISeriesDenoiser> OpenAsync(string role, string modelVersion, CancellationToken ct)
    {
        var folder = await registry.OpenAsync(ModelVersionId.Parse(modelVersion), ct);
        return new NamedDenoiser(role, DenoisingModel.OpenOnnx(folder, logger: logger));
    }

    private static void Dispose(IEnumerable<ISeriesDenoiser> methods)
    {
        foreach (var method in methods.OfType<NamedDenoiser>()) method.Dispose();
    }

    private async Task<ModelScoringException> FailAsync(EvaluationRequested request, string reason, string errorType, int attempt, CancellationToken ct)
    {
        await store.WriteAsync(_outputBucket, new FailureRecord(request.HeldOutSet, PipelineStage.Evaluation, reason, errorType,
            clock.GetUtcNow(), attempt, ModelVersion: request.CandidateModelVersion), ct);
        EvaluationTelemetry.ModelScored(request.CandidateModelVersion, "failed");
        LogFailed(logger, request.CandidateModelVersion, reason);
        return new ModelScoringException(reason);
    }

    /// <summary>A model under the name the report gives it ("candidate", "baseline"); owns its engine.</summary>
    private sealed class NamedDenoiser(string name, SeriesDenoiser model) : ISeriesDenoiser, IDisposable
    {
        public string Name => name;
        public int ContextSlices => ((ISeriesDenoiser)model).ContextSlices;
        public bool ThreadSafe => false;
        public IReadOnlyList<Image> Denoise(IReadOnlyList<Image> series) => model.Denoise(series);
        public void Dispose() => model.Engine.Dispose();
    }

    [LoggerMessage(3101, LogLevel.Information, "Scored model {Candidate} against {Baseline}: smallest PSNR gain {PsnrGainMin:0.00} dB")]
    private static partial void LogScored(ILogger logger, string candidate, string baseline, double psnrGainMin);

    [LoggerMessage(3102, LogLevel.Error, "Scoring model {Candidate} failed: {Reason} (see the failure record)")]
    private static partial void LogFailed(ILogger logger, string candidate, string reason);
}

/// <summary>The request cannot be answered (bad held-out set, unknown or tampered model version): the message faults.</summary>
internal sealed class ModelScoringException(string message) : Exception(message);
