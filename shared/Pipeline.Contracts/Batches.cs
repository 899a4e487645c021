namespace Pipeline.Contracts;

/// <summary>
/// Operator -> ingest: turn every study under <paramref name="Prefix"/> into denoise jobs of one named batch (`pipeline
/// submit`). Ingest owns job creation; it writes the batch's <see cref="BatchRecord"/> and keeps it current. Submitting a
/// name that is running or finished changes nothing.
/// </summary>
/// <param name="Name">Batch name: letters, digits, '.', '_' and '-', at most 64 characters (see <see cref="BatchNames"/>).</param>
/// <param name="Prefix">Bucket and key prefix of the studies (any bucket the store can read; never modified).</param>
/// <param name="Priority">Job priority (bulk unless said otherwise).</param>
public sealed record SubmitBatch(string Name, ObjectRef Prefix, JobPriority Priority = JobPriority.Bulk) : IPipelineMessage
{
    public int ContractVersion { get; init; } = Contracts.ContractVersion.Current;
}

/// <summary>
/// The JSON document at <see cref="BucketLayout.Batch"/>: one batch's progress, written by ingest as it lists the prefix,
/// publishes jobs and sees their completion markers. No patient data (counts, keys and reasons only).
/// </summary>
/// <param name="Name">Batch name.</param>
/// <param name="Prefix">The studies' bucket and key prefix.</param>
/// <param name="Priority">Job priority.</param>
/// <param name="Started">When ingest took the submission.</param>
public sealed record BatchRecord(string Name, ObjectRef Prefix, JobPriority Priority, DateTimeOffset Started)
{
    public int ContractVersion { get; init; } = Contracts.ContractVersion.Current;

    /// <summary>Whether the whole prefix was listed: until then the expected counts only grow.</summary>
    public bool Listed { get; init; }

    /// <summary>Studies, series and slices found so far (series with a job, or done already).</summary>
    public int Studies { get; init; }
    public int Series { get; init; }
    public long SlicesExpected { get; init; }

    /// <summary>Series whose completion marker covers their job, and the slices they denoised.</summary>
    public int SeriesDone { get; init; }
    public long SlicesDone { get; init; }

    /// <summary>Jobs published whose marker (or failure record) was not seen yet: at most Ingest:MaxOutstandingJobsPerBatch.</summary>
    public int Outstanding { get; init; }

    /// <summary>Series whose job ended in the error queue, and source objects that failed alone (each has a failure record).</summary>
    public int SeriesFailed { get; init; }
    public int ObjectsFailed { get; init; }

    /// <summary>Failed objects with their reasons (from the failure records under the prefix), filled in when the batch finishes.</summary>
    public IReadOnlyList<ObjectProblem> Failures { get; init; } = [];

    /// <summary>When the remaining slices will be done at the rate measured since <see cref="Started"/> (null before a rate exists).</summary>
    public DateTimeOffset? Eta { get; init; }

    /// <summary>When the record was last written.</summary>
    public DateTimeOffset Updated { get; init; }

    /// <summary>When every job of the batch ended; then <see cref="Report"/> is written.</summary>
    public DateTimeOffset? Finished { get; init; }

    /// <summary>The batch's morning report (static HTML beside the record).</summary>
    public ObjectRef? Report { get; init; }
}

/// <summary>Batch names: safe as one key segment and in a queue-free message.</summary>
public static class BatchNames
{
    /// <summary>Letters, digits, '.', '_' and '-', 1 to 64 characters, not only dots.</summary>
    public static bool IsValid(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 64 && name.Trim('.').Length > 0
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}
