namespace Pipeline.Hosting;

/// <summary>
/// The services' work queues, named once: each consumer definition takes its name from here, and operator tools read
/// the matching error queues (MassTransit moves a message that failed every retry to "{queue}_error").
/// </summary>
public static class PipelineQueues
{
    /// <summary>Ingest's bucket notifications.</summary>
    public const string BucketNotifications = "bucket-notifications";

    /// <summary>The denoise workers' jobs (<c>DenoiseSeries</c>), competing consumers.</summary>
    public const string DenoiseJobs = "denoise-series";

    /// <summary>Evaluation of denoised series.</summary>
    public const string Evaluation = "evaluation";

    /// <summary>Evaluation's candidate-model scoring requests.</summary>
    public const string EvaluationModelScores = "evaluation-model-scores";

    /// <summary>Every work queue above, in data-flow order.</summary>
    public static IReadOnlyList<string> All { get; } = [BucketNotifications, DenoiseJobs, Evaluation, EvaluationModelScores];

    /// <summary>Where MassTransit moves the messages of <paramref name="queue"/> that failed every retry.</summary>
    public static string ErrorQueue(string queue) => queue + "_error";
}
