using System.ComponentModel.DataAnnotations;
using Pipeline.Contracts;

namespace Pipeline.Ingest;

/// <summary>Ingest settings, configuration section "Ingest".</summary>
internal sealed class IngestOptions
{
    public const string Section = "Ingest";

    /// <summary>Bucket where studies are dropped (read only: never modified).</summary>
    [Required]
    public string InputBucket { get; set; } = "incoming";

    /// <summary>
    /// Pins the model version jobs ask for, e.g. "denoiser/1". Empty (the default): the registry's current
    /// version of ModelRegistry:Model at the time a series completes, so a promotion reaches the next job.
    /// </summary>
    public string? ModelVersion { get; set; }

    /// <summary>A series with no new instance for this long is complete (when no marker says so sooner).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan QuietPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the whole input bucket is listed to catch objects whose events were lost.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a published job may reasonably wait in the queue and run. A job still without its completion marker this
    /// long after it was published is published again (checked at each reconcile): a broker that lost its queues loses no
    /// series, and a job that was only slow is done twice at most (the worker acknowledges a covered job without work).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan JobDeadline { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// File name of the uploader's marker object. Its folder's series are complete when it appears; if
    /// it is a JSON manifest listing "instances" (keys relative to its folder), when all of them were seen.
    /// </summary>
    [Required]
    public string MarkerFileName { get; set; } = "_manifest.json";

    /// <summary>Whether an object of the input bucket is the uploader's marker object.</summary>
    public bool IsMarker(ObjectRef obj) => Path.GetFileName(obj.Key) == MarkerFileName;

    /// <summary>Key prefixes whose drops jump the queue (e.g. "urgent/").</summary>
    public List<string> UrgentPrefixes { get; set; } = [];

    /// <summary>Priority of ordinary drops (a manifest may say "priority": "urgent" | "normal" | "bulk").</summary>
    public JobPriority DefaultPriority { get; set; } = JobPriority.Normal;

    /// <summary>
    /// Backpressure of a batch (`pipeline submit`): jobs of one batch published and not ended yet. Ingest lists the batch's
    /// prefix no further until some end, so a batch of 100,000 series neither floods the broker nor fills ingest's memory.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxOutstandingJobsPerBatch { get; set; } = 200;

    /// <summary>
    /// How long after its submission a batch should be finished (exported as its deadline; the "batch past its deadline"
    /// alert fires when one still runs after it). Null: batches have no deadline.
    /// </summary>
    public TimeSpan? BatchDeadline { get; set; }

    /// <summary>How often a running batch looks for the completion markers of its outstanding jobs and updates its record.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan BatchPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Bytes fetched to read a header; a longer header is read from the whole object.</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int HeaderReadBytes { get; set; } = 64 * 1024;

    /// <summary>Header reads in flight at once: each is a round trip to the store, so a drop is read this many at a time.</summary>
    [Range(1, 64)]
    public int HeaderReadConcurrency { get; set; } = 8;
}
