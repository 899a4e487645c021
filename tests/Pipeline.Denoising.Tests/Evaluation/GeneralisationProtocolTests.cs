using System.Security.Cryptography;
using Pipeline.Denoising.Architectures;
using Pipeline.Denoising.Baselines;
using Pipeline.Denoising.Evaluation;
using Pipeline.Denoising.Models;
using Pipeline.Imaging;
using Pipeline.Imaging.Noise;
using Pipeline.Imaging.Tests.Support;

namespace Pipeline.Denoising.Tests.Evaluation;

/// <summary>
/// The generalisation protocol refuses the held-out inia19 data, never calls a model's own training data
/// "generalisation", and its anchor (NLM + Rician bias correction) equals scikit-image's NLM corrected by numpy.
/// </summary>
public sealed class GeneralisationProtocolTests
{
    private const string Coins = GeneralisationProtocol.ScikitImageData + "/coins.png";

    // Small pictures (102x102, 200x200) keep the anchor's NLM sweep quick.
    private const string Small = GeneralisationProtocol.ScikitImageData + "/microaneurysms.png";
    private const string Other = GeneralisationProtocol.ScikitImageData + "/chessboard_GRAY.png";

    private static readonly QualityProtocolOptions Quick = new() { Scalings = [new Scaling("dim", 0.3)] };

    [Theory]
    [InlineData("/nonexistent/inia19-t1-brain.nii.gz")]
    [InlineData("/nonexistent/INIA19/t1.nii.gz")]
    public void Refuses_inia19_before_reading_anything(string path)
    {
        // Paths that do not exist (the real files must never be opened, even by a broken guard): reading would be an
        // IOException, so an ArgumentException naming inia19 shows the refusal came first, by name.
        var set = new GeneralisationSet("held-out", "out-of-domain", [path], []);
        Assert.Throws<ArgumentException>(() => HeldOutData.Refuse(path));
        var error = Assert.Throws<ArgumentException>(() =>
            GeneralisationProtocol.Run(new Identity(), Manifest(), [set], [new RicianNoise(0.1)], Quick));
        Assert.Contains("inia19", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Data_the_model_trained_on_or_that_derives_from_it_is_in_subject_never_generalisation()
    {
        var trainedOn = Manifest(new DataLineage("/elsewhere/copy.png", Sha256(Small), "train", 0, 0));
        var sets = new GeneralisationSet[]
        {
            new("same-file", "out-of-domain", [Small], []),
            new("derived", "skull-stripped", [Other], [Small]),
            new("unseen", "out-of-domain", [Other], []),
        };

        var report = GeneralisationProtocol.Run(new Identity(), trainedOn, sets, [new RicianNoise(0.2)], Quick);

        var bySet = report.Figures.ToDictionary(f => f.Set);
        foreach (var seen in new[] { "same-file", "derived" })
        {
            Assert.Equal(ScoreRole.InSubject, bySet[seen].Role);
            Assert.Null(bySet[seen].TargetHolds);
            Assert.Equal(["/elsewhere/copy.png"], bySet[seen].SeenSources);
        }
        Assert.Equal(ScoreRole.Generalisation, bySet["unseen"].Role);
        Assert.False(bySet["unseen"].TargetHolds); // the noisy input does not beat NLM
        Assert.Equal("/elsewhere/copy.png", Assert.Single(report.TrainingVolumes).Source);
    }

    [Fact]
    public void Anchor_equals_scikit_image_nlm_with_numpy_rician_bias_correction()
    {
        // A 64x64 crop of a coins picture at 12 bits, its left quarter air (zero), with 10 % Rician noise: quick.
        var picture = Imaging.Pictures.GrayPicture.Read(Coins);
        var crop = new Image(64, 64);
        for (var y = 0; y < 64; y++)
            for (var x = 16; x < 64; x++)
                crop.Pixels[y * 64 + x] = picture[100 + x, 100 + y] * 4095f / 255 * 0.3f;
        const double sigma = 409.5, hOverSigma = 0.7;
        var noisy = new RicianNoise(0.1).Apply(crop, 4095, seed: 3);
        using var folder = new TempFolder();
        Python.WriteRaw(folder.File("noisy"), noisy);
        Python.Run("""
            import sys, numpy as np
            from skimage.restoration import denoise_nl_means
            x = np.fromfile(sys.argv[1] + "/noisy", dtype=np.float64).reshape(64, 64); s = float(sys.argv[2])
            d = denoise_nl_means(x, patch_size=5, patch_distance=6, h=0.7 * s, sigma=s, fast_mode=True, preserve_range=True)
            np.sqrt(np.maximum(d * d - 2 * s * s, 0)).tofile(sys.argv[1] + "/anchor")
            print("{}")
            """, folder.Path, sigma.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var expected = Python.ReadRaw(folder.File("anchor"));

        var anchor = GeneralisationProtocol.Anchor(noisy, sigma, hOverSigma);

        // NLM agrees with scikit-image to ~1e-4 grey levels (ScikitImageBaselineTests); the correction must not add more
        // than float rounding. Without it the air alone would differ by ~sqrt(2) sigma.
        var worst = anchor.Pixels.Zip(expected, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 5e-3 * sigma, $"anchor differs from scikit-image + numpy by up to {worst}");
        Assert.Contains(expected, v => v == 0); // the correction's floor is exercised
    }

    private static ModelManifest Manifest(params DataLineage[] data) => new()
    {
        Architecture = ArchitectureSpec.UNetDenoiser(contextSlices: 1, predictsImage: true),
        Normalisation = NormalisationSpec.Default,
        Noise = new NoiseSpec(["rician"], 0.01, 0.25, 4095, 0.2, 0.95),
        Training = new TrainingRecord { Mode = "supervised", Data = data },
        Files = new ModelFiles(new FileDigest("weights.safetensors", ""), new FileDigest("model.onnx", "")),
    };

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>Returns its input: a "model" that costs nothing.</summary>
    private sealed class Identity : ISeriesDenoiser
    {
        public string Name => "identity";
        public int ContextSlices => 1;
        public bool ThreadSafe => true;
        public IReadOnlyList<Image> Denoise(IReadOnlyList<Image> series) => series;
    }
}
