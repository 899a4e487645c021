using System.Text.Json;
using Pipeline.Contracts;
using Pipeline.Hosting;
using Pipeline.Imaging;
using Pipeline.Imaging.Pictures;
using Pipeline.Storage;
using Pipeline.Storage.Local;

namespace Pipeline.Reporting.Tests;

/// <summary>
/// An output bucket in a folder holding what the pipeline writes for a small batch: two evaluated series (one with a clean
/// reference) with their markers, reports and montages, and two failure records. Hostile strings (markup, quotes, '#')
/// sit in every field a report shows that came from a DICOM header or an object key.
/// </summary>
internal sealed class ReportBucket : IDisposable
{
    public const string Bucket = "denoised";
    public const string Study = "1.2.826.0.1.3680043.2.1125.1";
    public const string SeriesWithReference = Study + ".10";
    public const string HostileSeries = Study + ".20";
    public const string HostileModality = "<script>alert('modality')</script>";
    public const string HostileReason = "header says <img src=x onerror=alert(1)> & \"quoted\"";
    public const string HostileKey = "study/weird #1 \"x\" <b>.dcm";
    public static readonly DateTimeOffset Started = new(2026, 12, 3, 1, 0, 0, TimeSpan.Zero);

    private readonly TempDir _dir = new();

    public ReportBucket()
    {
        Store = new LocalFolderObjectStore(new LocalFolderStorageOptions { Root = _dir.Path });
        Store.EnsureBucketAsync(Bucket).GetAwaiter().GetResult();
        Write(SeriesWithReference, slices: 4, failed: 0, "MR", new QualityFigures(41.5, 12.25, 31.4, 0.87,
            PsnrReferenceInput: 24.1, PsnrReferenceOutput: 29.8, SsimReferenceInput: 0.61, SsimReferenceOutput: 0.84));
        Write(HostileSeries, slices: 2, failed: 1, HostileModality, new QualityFigures(30, 9.5, double.PositiveInfinity, 1));
        Fail(PipelineStage.Ingest, HostileKey, HostileReason, series: null);
        Fail(PipelineStage.Denoise, "study/20/0003.dcm", "pixel data ends 512 bytes early", HostileSeries);
    }

    public IObjectStore Store { get; }

    /// <summary>The bucket's folder: the report opens from here as it would from the bucket.</summary>
    public string Folder => Path.Combine(_dir.Path, Bucket);

    public Task<PipelineStatus> StatusAsync() => PipelineStatus.ReadAsync(Store, null, Bucket, CancellationToken.None);

    private void Write(string series, int slices, int failed, string modality, QualityFigures figures)
    {
        const string model = "denoiser/1";
        var instances = Enumerable.Range(1, slices).Select(i => new DenoisedInstance(
            new ObjectRef("incoming", $"study/{series}/{i:0000}.dcm"),
            new ObjectRef(Bucket, BucketLayout.DerivedInstance(Study, series, model, 1, $"{series}.{i}")))).ToList();
        var failedInstances = Enumerable.Range(slices + 1, failed).Select(i => new ObjectRef("incoming", $"study/{series}/{i:0000}.dcm")).ToList();
        Store.WriteMarkerAsync(Bucket, new SeriesCompletion(Study, series, series + ".1", model, 1, "fingerprint", instances, failedInstances,
            Started.AddMinutes(1), new Dictionary<string, double>()), CancellationToken.None).GetAwaiter().GetResult();

        var montage = new ObjectRef(Bucket, BucketLayout.Montage(Study, series, model));
        Put(montage.Key, Montage(slices), "image/png");
        var report = new EvaluationReport(Study, series, series + ".1", model, 1, modality, 4095, slices, 0, figures, null,
            [.. instances.Select(i => new InstanceReport(i.Source, i.Derived, Figures: figures))], new MontageSummary(montage, [0]));
        Put(BucketLayout.Report(Study, series, model), JsonSerializer.SerializeToUtf8Bytes(report, EvaluationReport.Json), "application/json");
    }

    private void Fail(PipelineStage stage, string key, string reason, string? series) =>
        Store.WriteAsync(Bucket, new FailureRecord(new ObjectRef("incoming", key), stage, reason, "InvalidDataException", Started.AddMinutes(2),
            StudyInstanceUid: Study, SeriesInstanceUid: series), CancellationToken.None).GetAwaiter().GetResult();

    private void Put(string key, byte[] bytes, string type) =>
        Store.PutBytesAsync(Bucket, key, bytes, new ObjectWriteOptions(type)).GetAwaiter().GetResult();

    /// <summary>A real montage of small gradient slices, as evaluation draws them.</summary>
    private static byte[] Montage(int slices)
    {
        var images = Enumerable.Range(0, slices).Select(k => new Image(16, 16, [.. Enumerable.Range(0, 256).Select(p => (float)(p + k * 10))])).ToList();
        var volume = new Volume(images, VolumeGeometry.Identity());
        return SeriesMontage.Render(volume, volume, [0]);
    }

    public void Dispose() => _dir.Dispose();
}
