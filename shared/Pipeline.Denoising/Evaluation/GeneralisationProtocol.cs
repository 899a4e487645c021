using Pipeline.Denoising.Baselines;
using Pipeline.Denoising.Models;
using Pipeline.Imaging;
using Pipeline.Imaging.Nifti;
using Pipeline.Imaging.Noise;
using Pipeline.Imaging.Pictures;

namespace Pipeline.Denoising.Evaluation;

/// <summary>
/// One set the generalisation protocol scores: NIfTI volumes or grayscale pictures, and the files they were derived
/// from (a brain-extracted volume derives from its head volume: a model trained on one has seen the other).
/// </summary>
public sealed record GeneralisationSet(string Name, string Kind, IReadOnlyList<string> Files, IReadOnlyList<string> DerivedFrom);

/// <summary>Whether a set's figures measure generalisation, or only in-subject quality (the model trained on its data).</summary>
public enum ScoreRole
{
    Generalisation,
    InSubject,
}

/// <summary>
/// One set at one scaling and noise level: the model's mean whole-slice PSNR/SSIM and the anchor's (NLM, true sigma, the
/// h/sigma of <see cref="GeneralisationProtocol.AnchorHOverSigma"/> with the best mean PSNR on these slices, Rician
/// bias corrected).
/// </summary>
public sealed record SetFigures(string Set, string Kind, ScoreRole Role, IReadOnlyList<string> SeenSources, string Scaling, string Noise,
    double Level, int Slices, double ModelPsnr, double ModelSsim, double AnchorPsnr, double AnchorSsim, double AnchorHOverSigma)
{
    public double PsnrMargin => ModelPsnr - AnchorPsnr;

    public double SsimMargin => ModelSsim - AnchorSsim;

    /// <summary>The target (PSNR >= anchor + 0.5 dB and SSIM >= anchor's); null where the figures are in-subject.</summary>
    public bool? TargetHolds => Role == ScoreRole.Generalisation
        ? PsnrMargin >= GeneralisationProtocol.TargetPsnrMargin && ModelSsim >= AnchorSsim
        : null;
}

/// <summary>What a protocol run scored, with the model's training volumes as its manifest records them.</summary>
public sealed record GeneralisationReport(IReadOnlyList<DataLineage> TrainingVolumes, InitialWeights? InitialModel, IReadOnlyList<SetFigures> Figures);

/// <summary>Progress of a run: scored slices of all cases so far, of the total.</summary>
public sealed record ProtocolStep(int Done, int Total, string Set);

/// <summary>
/// The generalisation protocol: a model scored on data it never trained on, against a classical anchor at its best.
/// Leave one volume out (ch2 and ch2better, Colin27 at 1 and 0.5 mm: a model trained on one is scored on the other),
/// the brain-extracted ch2bet (skull-stripped: the air is exactly zero), and scikit-image's grayscale pictures
/// (out of domain). Each volume gives <see cref="QualityProtocolOptions.SliceCount"/> slices from anywhere in it
/// (<see cref="SplitPart.Whole"/>), each picture one; the quality protocol's scalings and seeded Rician noise apply.
/// A set whose files (or the files it derives from) are in the model's lineage (SHA-256) is reported as in-subject and
/// never as generalisation. mricron-data's inia19 files are refused (<see cref="HeldOutData"/>).
/// </summary>
public static class GeneralisationProtocol
{
    /// <summary>The target: the model's PSNR at least this far above the anchor's (and SSIM at least the anchor's).</summary>
    public const double TargetPsnrMargin = 0.5;

    /// <summary>
    /// The h/sigma values the anchor is tuned over: nlm_h_sweep.py's grid (0.5-1.0) widened to 0.3-1.5, because on
    /// unfamiliar images the best h sat at that grid's edges (an anchor held below its best would flatter the model).
    /// </summary>
    public static IReadOnlyList<double> AnchorHOverSigma { get; } = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0, 1.2, 1.5];

    public const string Templates = "/usr/share/mricron/templates";

    /// <summary>Debian python3-skimage's bundled pictures.</summary>
    public const string ScikitImageData = "/usr/lib/python3/dist-packages/skimage/data";

    /// <summary>The protocol's sets; the pictures are the natural photographs and textures among the grayscale ones.</summary>
    public static IReadOnlyList<GeneralisationSet> StandardSets { get; } =
    [
        new("ch2", "leave-one-volume-out", [$"{Templates}/ch2.nii.gz"], []),
        new("ch2better", "leave-one-volume-out", [$"{Templates}/ch2better.nii.gz"], []),
        new("ch2bet", "skull-stripped", [$"{Templates}/ch2bet.nii.gz"], [$"{Templates}/ch2.nii.gz"]),
        new("skimage", "out-of-domain",
            new[] { "camera", "coins", "moon", "brick", "grass", "gravel" }.Select(n => $"{ScikitImageData}/{n}.png").ToArray(), []),
    ];

    /// <summary>The volumes a model trained or validated on (one entry per file), from its manifest's lineage.</summary>
    public static IReadOnlyList<DataLineage> TrainingVolumes(ModelManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return manifest.Training.Data.DistinctBy(d => d.Sha256).ToArray();
    }

    /// <summary>The lineage sources the set's files are, or derive from, compared by SHA-256: empty for unseen data.</summary>
    public static IReadOnlyList<string> SeenSources(ModelManifest manifest, GeneralisationSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        var trained = TrainingVolumes(manifest);
        var hashes = set.Files.Concat(set.DerivedFrom).Where(File.Exists).Select(DataLineage.Sha256Of).ToHashSet();
        return trained.Where(d => hashes.Contains(d.Sha256)).Select(d => d.Source).ToArray();
    }

    public static GeneralisationReport Run(ISeriesDenoiser model, ModelManifest manifest, IReadOnlyList<GeneralisationSet> sets,
        IReadOnlyList<NoiseModel> levels, QualityProtocolOptions? options = null, IProgress<ProtocolStep>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sets);
        ArgumentNullException.ThrowIfNull(levels);
        options ??= new QualityProtocolOptions();
        if (levels.FirstOrDefault(l => l is not RicianNoise) is { } other)
            throw new ArgumentException($"The anchor's bias correction is for Rician noise; '{other}' is not.");
        foreach (var path in sets.SelectMany(s => s.Files.Concat(s.DerivedFrom)))
            HeldOutData.Refuse(path);

        var loaded = sets.Select(s => (Set: s, Seen: SeenSources(manifest, s), Items: s.Files.Select(f => Load(f, options)).ToArray())).ToArray();
        var total = loaded.Sum(s => s.Items.Sum(i => i.Slices.Length)) * options.Scalings.Count * levels.Count;
        var done = 0;
        var figures = new List<SetFigures>();
        foreach (var (set, seen, items) in loaded)
        {
            // Per case (scaling x level, the same order for every item): each scored slice's model and anchor scores.
            var modelScores = new List<(double Psnr, double Ssim)>[options.Scalings.Count * levels.Count];
            var anchorScores = new List<(double Psnr, double Ssim)[]>[modelScores.Length];
            for (var c = 0; c < modelScores.Length; c++)
                (modelScores[c], anchorScores[c]) = ([], []);
            QualityCase[]? first = null;
            foreach (var (volume, slices) in items)
            {
                var cases = QualityProtocol.Cases(volume, levels, slices, model.ContextSlices, options).ToArray();
                first ??= cases;
                for (var c = 0; c < cases.Length; c++)
                {
                    var sigma = cases[c].Noise.Level * options.DataRange;
                    foreach (var k in slices)
                    {
                        var clean = cases[c].Clean[k];
                        var denoised = model.Denoise(QualityProtocol.Stack(cases[c].Noisy, k, model.ContextSlices, volume.Depth))[model.ContextSlices];
                        modelScores[c].Add(QualityEvaluation.ScoreSlice(clean, denoised, options.DataRange));
                        var anchors = new (double, double)[AnchorHOverSigma.Count];
                        Parallel.For(0, anchors.Length, h => anchors[h] = QualityEvaluation.ScoreSlice(clean,
                            Anchor(cases[c].Noisy[k], sigma, AnchorHOverSigma[h]), options.DataRange));
                        anchorScores[c].Add(anchors);
                        progress?.Report(new ProtocolStep(++done, total, set.Name));
                    }
                }
            }
            for (var c = 0; c < modelScores.Length; c++)
            {
                var best = Enumerable.Range(0, AnchorHOverSigma.Count).MaxBy(h => anchorScores[c].Average(s => s[h].Psnr));
                figures.Add(new SetFigures(set.Name, set.Kind, seen.Count == 0 ? ScoreRole.Generalisation : ScoreRole.InSubject, seen,
                    first![c].Scaling.Name, first[c].Noise.ToString(), first[c].Noise.Level, modelScores[c].Count,
                    modelScores[c].Average(s => s.Psnr), modelScores[c].Average(s => s.Ssim),
                    anchorScores[c].Average(s => s[best].Psnr), anchorScores[c].Average(s => s[best].Ssim), AnchorHOverSigma[best]));
            }
        }
        return new GeneralisationReport(TrainingVolumes(manifest), manifest.Training.InitialModel, figures);
    }

    /// <summary>The anchor at one h: NLM given the true sigma, then the Rician bias correction sqrt(max(d^2 - 2 sigma^2, 0)).</summary>
    public static Image Anchor(Image noisy, double sigma, double hOverSigma) => new UnbiasedNonLocalMeans(hOverSigma).Denoise(noisy, sigma);

    /// <summary>A NIfTI volume with its scored slices, or a picture as a one-slice volume scored once.</summary>
    private static (Volume Volume, int[] Slices) Load(string path, QualityProtocolOptions options)
    {
        var whole = options with { Part = SplitPart.Whole };
        if (path.EndsWith(".nii", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".nii.gz", StringComparison.OrdinalIgnoreCase))
        {
            var volume = NiftiReader.Read(path).Volume;
            return (volume, QualityProtocol.SelectSlices(volume, whole));
        }
        var picture = new Volume([GrayPicture.Read(path)], VolumeGeometry.Identity());
        return (picture, QualityProtocol.SelectSlices(picture, whole with { SliceCount = 1 }));
    }
}
