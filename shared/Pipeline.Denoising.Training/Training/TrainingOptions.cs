using Pipeline.Denoising.Architectures;

namespace Pipeline.Denoising.Training.Training;

/// <summary>How a model is trained (every field is recorded in the manifest).</summary>
public sealed record TrainingOptions
{
    public const string Supervised = "supervised";
    public const string Noise2Void = "noise2void";
    public const string Neighbor2Neighbor = "neighbor2neighbor";
    public const string UniformLoss = "uniform";
    public const string NoiseRelativeLoss = "noise-relative";

    public ArchitectureSpec Architecture { get; init; } = ArchitectureSpec.ResidualDenoiser();

    /// <summary>"supervised" (clean data + synthetic noise), or self-supervised from noisy data alone: "noise2void" (blind
    /// spots) or "neighbor2neighbor" (one random neighbour sub-image predicts the other).</summary>
    public string Mode { get; init; } = Supervised;

    /// <summary>
    /// The training series are noisy as acquired (self-supervised modes only): the sampler adds no synthetic noise, so no
    /// clean value is ever seen. False: the series are clean and get synthetic noise, as in supervised training.
    /// </summary>
    public bool NoisyData { get; init; }

    /// <summary>
    /// Neighbor2Neighbor's gamma, the weight of its consistency term at the end of the run; it rises linearly from 0 with
    /// the run's progress, as the authors' code raises it per epoch to 2 (their increase_ratio).
    /// </summary>
    public double ConsistencyWeight { get; init; } = 2;

    /// <summary>Noise types drawn per patch (Pipeline.Imaging names: gaussian, rician, poisson).</summary>
    public IReadOnlyList<string> NoiseTypes { get; init; } = ["rician"];

    /// <summary>Noise level range, a fraction of <see cref="DataRange"/>: one blind model across it.</summary>
    public double MinLevel { get; init; } = 0.02;
    public double MaxLevel { get; init; } = 0.22;

    /// <summary>Stored range of the synthetic series (12-bit MRI).</summary>
    public double DataRange { get; init; } = 4095;

    /// <summary>
    /// Clean series are rescaled so their bright tissue (99.5th percentile of the foreground) sits at
    /// a fraction of the range drawn from [MinPeak, MaxPeak]: dim and bright series alike.
    /// </summary>
    public double MinPeak { get; init; } = 0.2;
    public double MaxPeak { get; init; } = 0.95;

    public int PatchSize { get; init; } = 64;
    public int BatchSize { get; init; } = 16;
    public int Steps { get; init; } = 1000;

    /// <summary>Stops early (and still validates and saves) when this much wall time has passed.</summary>
    public TimeSpan? TimeBudget { get; init; }

    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Cosine decay from LearningRate to LearningRate * FinalLearningRateFraction over Steps.</summary>
    public double FinalLearningRateFraction { get; init; } = 0.05;

    /// <summary>Loss = MSE + SsimWeight * (1 - SSIM) in normalised units; 0 = plain MSE.</summary>
    public double SsimWeight { get; init; }

    /// <summary>
    /// How patches weigh in the MSE: "uniform", or "noise-relative": each patch's squared error divided by its noise
    /// variance (the fraction of the noise power left; for Poisson noise, the variance at the full data range). A uniform MSE is ruled by the noisiest patches (their errors are
    /// tens of times larger), so a blind model neglects low noise; the relative one weighs every level's dB alike.
    /// </summary>
    public string LossWeighting { get; init; } = UniformLoss;

    /// <summary>
    /// Score the output as the pipeline delivers it: clamped below at the series' floor (its minimum, which
    /// <see cref="Pipeline.Imaging.Normalisation.IntensityNormalisation.RestoreExcluded"/> applies). A linear output
    /// must otherwise hover around the floor in air, and at high noise those fluctuations (and the positive mean left after
    /// the clamp) are what whole-slice SSIM punishes; clamped, the network may go below the floor where it is sure of air.
    /// </summary>
    public bool ClampAtFloor { get; init; }

    /// <summary>Model folder (hash-verified) whose weights start the run: fine-tuning with a fresh optimiser, schedule
    /// and best. Its architecture must equal <see cref="Architecture"/>. Null = seeded random weights.</summary>
    public string? InitialModel { get; init; }

    public int ValidateEvery { get; init; } = 100;

    /// <summary>Stop after this many validations without improvement (0 = never stop early).</summary>
    public int Patience { get; init; } = 8;

    /// <summary>Probability that a patch is centred on a foreground pixel rather than anywhere.</summary>
    public double ForegroundBias { get; init; } = 0.9;

    /// <summary>Noise2Void: fraction of pixels masked (replaced by a random neighbour) per patch.</summary>
    public double BlindSpotFraction { get; init; } = 0.02;

    public int Seed { get; init; } = 1;

    public int Threads { get; init; }

    /// <summary>Folder for checkpoints (resume continues from the latest one there); null = none.</summary>
    public string? CheckpointFolder { get; init; }

    public int CheckpointEvery { get; init; } = 200;

    public void Validate()
    {
        Architecture.Validate();
        if (Mode is not (Supervised or Noise2Void or Neighbor2Neighbor))
            throw new ArgumentException($"Mode must be '{Supervised}', '{Noise2Void}' or '{Neighbor2Neighbor}'.");
        if (NoisyData && (Mode == Supervised || LossWeighting == NoiseRelativeLoss))
            throw new ArgumentException("Noisy training data has no clean target and no known noise level: it needs a self-supervised mode and a uniform loss.");
        if (Mode == Neighbor2Neighbor && (SsimWeight > 0 || ClampAtFloor || LossWeighting != UniformLoss || ConsistencyWeight < 0))
            throw new ArgumentException($"'{Neighbor2Neighbor}' trains on its own loss: no SSIM weight, floor clamp or noise-relative weighting, and a consistency weight >= 0.");
        if (LossWeighting is not (UniformLoss or NoiseRelativeLoss))
            throw new ArgumentException($"LossWeighting must be '{UniformLoss}' or '{NoiseRelativeLoss}'.");
        if (NoiseTypes.Count == 0 || MinLevel < 0 || MaxLevel < MinLevel)
            throw new ArgumentException("Noise needs at least one type and 0 <= MinLevel <= MaxLevel.");
        if (MinPeak <= 0 || MaxPeak < MinPeak || MaxPeak > 1)
            throw new ArgumentException("Peaks need 0 < MinPeak <= MaxPeak <= 1.");
        if (PatchSize < 8 || PatchSize % Architecture.SizeMultiple != 0 || BatchSize < 1 || Steps < 1 || ValidateEvery < 1)
            throw new ArgumentException("PatchSize (a multiple of the network's), BatchSize, Steps and ValidateEvery must be positive.");
        // The network also sees the half-size sub-images (2x2 cells: an even patch).
        if (Mode == Neighbor2Neighbor && PatchSize % (2 * Architecture.SizeMultiple) != 0)
            throw new ArgumentException($"'{Neighbor2Neighbor}' trains on half patches: PatchSize must be a multiple of {2 * Architecture.SizeMultiple}.");
    }
}

/// <summary>One step's report to the caller's progress bar.</summary>
public sealed record TrainingProgress(int Step, int TotalSteps, double Loss, double LearningRate, TimeSpan Elapsed,
    double? ValidationPsnr, double? BestValidationPsnr);
