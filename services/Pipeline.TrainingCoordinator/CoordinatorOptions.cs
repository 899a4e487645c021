using System.ComponentModel.DataAnnotations;
using Pipeline.Denoising.Evaluation;
using Pipeline.Denoising.Training.Training;

namespace Pipeline.TrainingCoordinator;

/// <summary>The coordinator's settings, configuration section "TrainingCoordinator" (table in the service README).</summary>
internal sealed class CoordinatorOptions
{
    public const string Section = "TrainingCoordinator";

    /// <summary>Cron expression (5 fields, UTC unless <see cref="TimeZone"/>) of the scheduled run; empty: no schedule.</summary>
    public string Schedule { get; set; } = "0 2 * * *";

    /// <summary>IANA or Windows time zone id of <see cref="Schedule"/>.</summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>A scheduled run starts only when at least this many training series are new since the last trained run.</summary>
    [Range(0, int.MaxValue)]
    public int MinNewSeries { get; set; } = 1;

    /// <summary>
    /// Where training data is: "bucket/prefix" entries (DICOM series; clean for supervised training). Empty:
    /// <see cref="DefaultTrainingData"/> (a default in the list itself would stay beside configured entries: the binder appends).
    /// </summary>
    public List<string> TrainingData { get; set; } = [];

    public const string DefaultTrainingData = "training/clean/";

    public IReadOnlyList<string> TrainingLocations => TrainingData.Count > 0 ? TrainingData : [DefaultTrainingData];

    /// <summary>Fraction of studies held out (by <see cref="StudySplit"/>) to score candidates; never trained on.</summary>
    [Range(0.01, 0.99)]
    public double HeldOutFraction { get; set; } = StudySplit.DefaultHeldOutFraction;

    /// <summary>Held-out series scored per run (the first ones in key order): each is one evaluation request.</summary>
    [Range(1, 100)]
    public int MaxHeldOutSeries { get; set; } = 4;

    /// <summary>Noise the held-out set is scored at (evaluation's protocol default when empty).</summary>
    public List<string> HeldOutNoise { get; set; } = [];

    /// <summary>Slices the quality protocol scores per held-out series (protocol default when null).</summary>
    [Range(1, 1000)]
    public int? HeldOutSlices { get; set; }

    /// <summary>Within the training studies, the slice fractions that train and validate (best-step selection).</summary>
    [Range(0.01, 0.99)]
    public double TrainFraction { get; set; } = 0.8;

    [Range(0.0, 0.99)]
    public double ValidationFraction { get; set; } = 0.2;

    /// <summary>"supervised" (clean series + synthetic noise) or a self-supervised mode on noisy series (see TrainingOptions).</summary>
    [Required]
    public string Mode { get; set; } = TrainingOptions.Supervised;

    /// <summary>The series are noisy as acquired (self-supervised modes only).</summary>
    public bool NoisyData { get; set; }

    /// <summary>Start from the current model's weights (true) or from seeded random weights.</summary>
    public bool FineTune { get; set; } = true;

    /// <summary>Step budget of a run (a request may give its own).</summary>
    [Range(1, int.MaxValue)]
    public int Steps { get; set; } = 2000;

    /// <summary>Wall-time budget of the training part of a run, in minutes (a request may give its own).</summary>
    [Range(0.01, 10_000)]
    public double Minutes { get; set; } = 120;

    [Range(8, 1024)]
    public int PatchSize { get; set; } = 64;

    [Range(1, 1024)]
    public int BatchSize { get; set; } = 16;

    [Range(1e-7, 1)]
    public double LearningRate { get; set; } = 2e-4;

    [Range(1, int.MaxValue)]
    public int ValidateEvery { get; set; } = 100;

    /// <summary>Steps between checkpoints uploaded to the models bucket (a restarted coordinator resumes from the last one).</summary>
    [Range(1, int.MaxValue)]
    public int CheckpointEvery { get; set; } = 200;

    /// <summary>Seed of the run's weights (from scratch) and patch sampler.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>libtorch threads; 0: all cores.</summary>
    [Range(0, 1024)]
    public int Threads { get; set; }

    /// <summary>How long the training lease holds without renewal: a killed coordinator's run is taken over after this.</summary>
    [Range(typeof(TimeSpan), "00:00:02", "1.00:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Wait between writing the lease and reading it back: the store has no conditional write, so of two coordinators
    /// that write at nearly the same time the later write wins and the other sees it and backs off.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan LeaseSettle { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long to wait for the evaluation service's score report of one held-out series.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "1.00:00:00")]
    public TimeSpan EvaluationTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Local folder for checkpoints and model files of the running run (default: under the temp folder).</summary>
    public string? WorkFolder { get; set; }
}
