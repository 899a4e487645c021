namespace Pipeline.Denoising.Evaluation;

/// <summary>
/// Spatially disjoint split of a volume by slice position: the lower slices train, the next ones validate, the
/// rest (the top) is the test set that no training or hyperparameter choice reads. Inclusive index ranges.
/// </summary>
public sealed record SliceSplit(int TrainLast, int ValidationFirst, int ValidationLast, int TestFirst, int Depth)
{
    public const double DefaultTrainFraction = 0.7;
    public const double DefaultValidationFraction = 0.1;

    /// <summary>Train 0 .. floor(D t) - 1, validation the next floor(D v) slices, test the remainder.</summary>
    public static SliceSplit ByPosition(int depth, double trainFraction = DefaultTrainFraction, double validationFraction = DefaultValidationFraction)
    {
        if (!(trainFraction > 0) || !(validationFraction >= 0) || trainFraction + validationFraction > 1)
            throw new ArgumentOutOfRangeException(nameof(trainFraction), "Fractions need train > 0, validation >= 0, train + validation <= 1.");
        var trainLast = (int)(depth * trainFraction) - 1;
        var validationLast = trainLast + (int)(depth * validationFraction);
        if (trainLast < 0 || validationLast >= depth)
            throw new ArgumentException($"A volume of {depth} slices is too thin for this split.");
        return new SliceSplit(trainLast, trainLast + 1, validationLast, validationLast + 1, depth);
    }

    public int TestLast => Depth - 1;
}
