using System.ComponentModel.DataAnnotations;
using Pipeline.Denoising.Dicom;
using Pipeline.Denoising.Inference;

namespace Pipeline.DenoiseWorker;

/// <summary>Denoise worker settings, configuration section "DenoiseWorker".</summary>
internal sealed class DenoiseWorkerOptions
{
    public const string Section = "DenoiseWorker";

    /// <summary>Inference engine: onnxruntime (default) and the device (Auto: CUDA when a GPU answers, else CPU).</summary>
    public EngineSettings Engine { get; set; } = new();

    /// <summary>Slices (or tiles) per inference call.</summary>
    [Range(1, 256)]
    public int BatchSize { get; set; } = 8;

    /// <summary>Slices larger than this in either direction are cut into overlapping tiles.</summary>
    [Range(64, 4096)]
    public int TileSize { get; set; } = 512;

    /// <summary>
    /// Jobs one worker holds at once. Inference runs one job at a time (one engine); a second job fetches and
    /// writes while the first one infers, so transfers overlap inference.
    /// </summary>
    [Range(1, 16)]
    public int ConcurrentJobs { get; set; } = 2;

    /// <summary>
    /// Longest a worker works on one delivery of a job before it publishes the rest as a continuation and acknowledges it
    /// (checked between inference batches). Must be below the broker's consumer_timeout (RabbitMQ: 30 min by default),
    /// with room for one batch, the writes and the publish: a delivery held past it closes the channel. The job endpoint's
    /// prefetch equals <see cref="ConcurrentJobs"/>, so no delivery waits unacknowledged behind another job.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:25:00")]
    public TimeSpan JobTimeBudget { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Objects fetched or written at the same time for one job.</summary>
    [Range(1, 64)]
    public int TransferConcurrency { get; set; } = 8;

    /// <summary>Appended to the Series Description of derived series (LO: the source's text is cut to fit 64 characters).</summary>
    public string SeriesDescriptionSuffix { get; set; } = DerivationLabelOptions.Default.SeriesDescriptionSuffix;

    /// <summary>Mark derived series "NOT FOR DIAGNOSTIC USE" in the Series Description and Image Comments.</summary>
    public bool NotForDiagnosticUse { get; set; } = DerivationLabelOptions.Default.NotForDiagnosticUse;

    /// <summary>The two label settings above, as the shared derivation takes them.</summary>
    public DerivationLabelOptions ToLabelOptions() => new() { SeriesDescriptionSuffix = SeriesDescriptionSuffix, NotForDiagnosticUse = NotForDiagnosticUse };

    /// <summary>
    /// On shutdown (SIGTERM) the worker stops taking jobs and lets the job in hand finish for this long;
    /// a job still running then is cancelled unacknowledged, so the broker gives it to another worker.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Free bytes below which (on the temp or the model cache folder) the worker stops taking jobs, which stay in the queue,
    /// until space returns; 0 turns the watermark off.
    /// </summary>
    [Range(0L, long.MaxValue)]
    public long MinFreeDiskBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>How often free space is checked against <see cref="MinFreeDiskBytes"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan DiskCheckInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Model versions kept loaded (the newest ones); older sessions are released once no job uses them.</summary>
    [Range(1, 8)]
    public int LoadedModels { get; set; } = 2;
}

/// <summary>Engine knobs bound from "DenoiseWorker:Engine".</summary>
internal sealed class EngineSettings
{
    public DevicePreference Device { get; set; } = DevicePreference.Auto;

    /// <summary>Intra-op CPU threads; 0 = one per core.</summary>
    [Range(0, 256)]
    public int Threads { get; set; }

    [Range(0, 64)]
    public int CudaDeviceId { get; set; }

    public EngineOptions ToEngineOptions() => new() { Device = Device, Threads = Threads, CudaDeviceId = CudaDeviceId };
}
