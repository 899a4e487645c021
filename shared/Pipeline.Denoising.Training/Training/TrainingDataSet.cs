using Pipeline.Denoising.Evaluation;
using Pipeline.Denoising.Models;
using Pipeline.Imaging;

namespace Pipeline.Denoising.Training.Training;

/// <summary>A clean volume given for training: where it came from (a path or object key) and the SHA-256 of that data.</summary>
public sealed record TrainingVolume(string Source, string Sha256, Volume Volume);

/// <summary>
/// What a run trains and validates on: each volume split by slice position (<see cref="SliceSplit"/>: the lower slices
/// train, the next ones validate, the rest is the quality protocol's test set and is never read), and the lineage a
/// model manifest records for it.
/// </summary>
public sealed class TrainingDataSet
{
    public const string TrainRole = "train", ValidationRole = "validation";

    private TrainingDataSet(IReadOnlyList<SliceSplit> splits, IReadOnlyList<TrainingSeries> training, IReadOnlyList<TrainingSeries> validation,
        IReadOnlyList<DataLineage> lineage) =>
        (Splits, Training, Validation, Lineage) = (splits, training, validation, lineage);

    /// <summary>Each volume's split, in the order the volumes were given.</summary>
    public IReadOnlyList<SliceSplit> Splits { get; }

    public IReadOnlyList<TrainingSeries> Training { get; }

    public IReadOnlyList<TrainingSeries> Validation { get; }

    /// <summary>Per volume, its training then its validation slice range, with the volume's source and SHA-256.</summary>
    public IReadOnlyList<DataLineage> Lineage { get; }

    /// <summary>Splits every volume alike; a series is named by the last part of its volume's source.</summary>
    /// <exception cref="ArgumentException">The fractions are invalid, or a volume is too thin to give each part a slice.</exception>
    public static TrainingDataSet Split(IReadOnlyList<TrainingVolume> volumes, double trainFraction = SliceSplit.DefaultTrainFraction,
        double validationFraction = SliceSplit.DefaultValidationFraction)
    {
        ArgumentNullException.ThrowIfNull(volumes);
        var splits = new List<SliceSplit>();
        var training = new List<TrainingSeries>();
        var validation = new List<TrainingSeries>();
        var lineage = new List<DataLineage>();
        foreach (var (source, sha256, volume) in volumes)
        {
            var split = SliceSplit.ByPosition(volume.Depth, trainFraction, validationFraction);
            var name = Path.GetFileName(source);
            splits.Add(split);
            training.Add(TrainingSeries.FromRange(name, volume, 0, split.TrainLast));
            validation.Add(TrainingSeries.FromRange(name, volume, split.ValidationFirst, split.ValidationLast));
            lineage.Add(new DataLineage(source, sha256, TrainRole, 0, split.TrainLast));
            lineage.Add(new DataLineage(source, sha256, ValidationRole, split.ValidationFirst, split.ValidationLast));
        }
        return new TrainingDataSet(splits, training, validation, lineage);
    }
}
