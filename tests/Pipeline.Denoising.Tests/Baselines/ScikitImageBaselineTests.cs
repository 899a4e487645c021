using System.Text.Json;
using Pipeline.Denoising.Baselines;
using Pipeline.Denoising.Evaluation;
using Pipeline.Imaging;
using Pipeline.Imaging.Metrics;
using Pipeline.Imaging.Nifti;
using Pipeline.Imaging.Noise;
using Pipeline.Imaging.Tests.Support;
using Xunit.Abstractions;

namespace Pipeline.Denoising.Tests.Baselines;

/// <summary>
/// Our classical baselines against scikit-image 0.19 / scipy (Debian python3-skimage, /usr/bin/python3) on
/// Colin27 test slices with Rician noise: the same noisy pixels, h and sigma go to both.
/// </summary>
public sealed class ScikitImageBaselineTests(ITestOutputHelper output)
{
    internal const string Colin27HighRes = "/usr/share/mricron/templates/ch2better.nii.gz";
    internal static readonly Lazy<Volume> Colin = new(() => NiftiReader.Read(Colin27HighRes).Volume);

    private const string Oracle = """
        import sys, json, numpy as np
        from scipy.ndimage import median_filter
        from skimage.restoration import denoise_nl_means
        folder, cases = sys.argv[1], json.loads(sys.argv[2])
        for c in cases:
            x = np.fromfile(f"{folder}/{c['name']}.in", dtype=np.float64).reshape(c['h'], c['w'])
            if c['method'] == 'nlm':
                y = denoise_nl_means(x, patch_size=5, patch_distance=6, h=c['h_'], sigma=c['sigma'], fast_mode=True, preserve_range=True)
            else:
                y = median_filter(x, size=3, mode='reflect')
            np.asarray(y, dtype=np.float64).tofile(f"{folder}/{c['name']}.out")
        print("{}")
        """;

    /// <summary>Cases: (name, noisy slice, h, sigma); slices from the protocol's test set, dim and bright, 5-20 %.</summary>
    private static List<(string Name, Image Noisy, double H, double Sigma)> NoisySlices()
    {
        var volume = Colin.Value;
        var slices = QualityProtocol.SelectSlices(volume);
        var cases = QualityProtocol.Cases(volume, [new RicianNoise(0.05), new RicianNoise(0.20)], [slices[0], slices[6]]);
        return cases.SelectMany(c => new[] { slices[0], slices[6] }.Select(k =>
            ($"{c.Scaling.Name}-{c.Noise.Level}-{k}", c.Noisy[k], 0.6 * c.Noise.Level * 4095, c.Noise.Level * 4095))).ToList();
    }

    private static void RunOracle(string method, List<(string Name, Image Noisy, double H, double Sigma)> cases, TempFolder folder)
    {
        foreach (var c in cases)
            Python.WriteRaw(folder.File(c.Name + ".in"), c.Noisy);
        var json = JsonSerializer.Serialize(cases.Select(c => new { name = c.Name, w = c.Noisy.Width, h = c.Noisy.Height, h_ = c.H, sigma = c.Sigma, method }));
        Python.Run(Oracle, folder.Path, json);
    }

    [Fact]
    public void Non_local_means_agrees_with_scikit_image()
    {
        var cases = NoisySlices();
        using var folder = new TempFolder();
        RunOracle("nlm", cases, folder);
        foreach (var (name, noisy, h, sigma) in cases)
        {
            var ours = NonLocalMeans.Denoise(noisy, h, sigma);
            var theirs = noisy.With(Python.ReadRaw(folder.File(name + ".out")).Select(v => (float)v).ToArray());
            var worst = ours.Pixels.Zip(theirs.Pixels, (a, b) => Math.Abs(a - b)).Max();
            var mean = ours.Pixels.Zip(theirs.Pixels, (a, b) => (double)Math.Abs(a - b)).Average();
            var agreement = FidelityMetrics.Psnr(theirs, ours, 4095);
            output.WriteLine($"{name}: max |ours - skimage| {worst:F4} ({worst / sigma:E2} sigma), mean {mean:E2}, PSNR between them {agreement:F1} dB");
            // float32 box sums vs skimage's float64 integral images: rounding, which can move a rare pair across the
            // distance cut-off (weight ~0.007 on or off): a few pixels differ by up to ~0.1 % of sigma, the rest by ~1e-4.
            Assert.True(worst <= 5e-3 * sigma, $"{name}: NLM differs from scikit-image by up to {worst} (sigma {sigma})");
            Assert.True(mean <= 1e-5 * sigma, $"{name}: NLM differs from scikit-image by {mean} on average (sigma {sigma})");
        }
    }

    [Fact]
    public void Median_3x3_equals_scipy()
    {
        var cases = NoisySlices().Take(2).ToList();
        using var folder = new TempFolder();
        RunOracle("median", cases, folder);
        foreach (var (name, noisy, _, _) in cases)
        {
            var ours = MedianFilter.Median3x3(noisy);
            var theirs = Python.ReadRaw(folder.File(name + ".out"));
            Assert.Equal(theirs.Select(v => (float)v), ours.Pixels);
        }
    }

    [Fact]
    public void Fast_exp_is_scikit_images_approximation()
    {
        // Values of skimage._shared.fast_exp (Schraudolph 1999) printed by /usr/bin/python3 (double version).
        Assert.Equal(0.97100782, NonLocalMeans.FastExp(0f), 6);
        Assert.Equal(0.37483025, NonLocalMeans.FastExp(-1f), 5);
        Assert.Equal(0.13207829, NonLocalMeans.FastExp(-2f), 5);
    }
}
