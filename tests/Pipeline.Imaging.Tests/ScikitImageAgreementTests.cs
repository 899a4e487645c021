using Pipeline.Imaging.Metrics;
using Pipeline.Imaging.Noise;
using Pipeline.Imaging.Tests.Support;

namespace Pipeline.Imaging.Tests;

/// <summary>MSE, PSNR, SSIM and the SSIM map agree with scikit-image 0.19 (Debian python3-skimage) within 1e-4.</summary>
public sealed class ScikitImageAgreementTests
{
    private const string Oracle = """
import sys, json, numpy as np
from skimage.metrics import structural_similarity, peak_signal_noise_ratio, mean_squared_error
folder, cases = sys.argv[1], json.loads(sys.argv[2])
out = []
for c in cases:
    a = np.fromfile(f"{folder}/{c['name']}.a", dtype='<f8').reshape(c['h'], c['w'])
    b = np.fromfile(f"{folder}/{c['name']}.b", dtype='<f8').reshape(c['h'], c['w'])
    r = c['range']
    ssim, smap = structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=r, full=True)
    smap.astype('<f8').tofile(f"{folder}/{c['name']}.map")
    out.append({'mse': mean_squared_error(a, b), 'psnr': peak_signal_noise_ratio(a, b, data_range=r), 'ssim': ssim})
print(json.dumps(out))
""";

    [Fact]
    public void Random_images_agree()
    {
        var cases = new List<(string, Image, Image, double)>();
        int[][] sizes = [[11, 11], [12, 17], [33, 20], [64, 64], [97, 41]];
        for (var i = 0; i < sizes.Length; i++)
        {
            var a = TestImages.Uniform(sizes[i][0], sizes[i][1], 1000, seed: i);
            var b = new GaussianNoise(0.05 * (i + 1)).Apply(a, 1000, seed: 100 + i);
            cases.Add(($"random{i}", a, b, 1000));
        }
        // Unrelated images: SSIM near 0, where relative errors would show first.
        cases.Add(("unrelated", TestImages.Uniform(40, 40, 255, 7), TestImages.Uniform(40, 40, 255, 8), 255));
        AssertAgreement(cases);
    }

    [Fact]
    public void Real_mri_slices_agree()
    {
        var colin = TestImages.Colin27Volume;
        var cases = new List<(string, Image, Image, double)>();
        foreach (var (k, noise) in new (int, NoiseModel)[] { (60, new RicianNoise(0.05)), (90, new RicianNoise(0.15)), (120, new GaussianNoise(0.1)), (90, new PoissonNoise(0.1)) })
        {
            var clean = colin.Slices[k];
            cases.Add(($"colin{k}{noise.Name}", clean, noise.Apply(clean, 255, seed: k), 255));
        }
        AssertAgreement(cases);
    }

    private static void AssertAgreement(List<(string Name, Image A, Image B, double Range)> cases)
    {
        using var folder = new TempFolder();
        foreach (var (name, a, b, _) in cases)
        {
            Python.WriteRaw(folder.File(name + ".a"), a);
            Python.WriteRaw(folder.File(name + ".b"), b);
        }
        var json = System.Text.Json.JsonSerializer.Serialize(cases.Select(c => new { name = c.Name, w = c.A.Width, h = c.A.Height, range = c.Range }));
        var expected = Python.Run(Oracle, folder.Path, json);
        for (var i = 0; i < cases.Count; i++)
        {
            var (name, a, b, range) = cases[i];
            var want = expected[i];
            var mse = FidelityMetrics.Mse(a, b);
            Assert.True(Math.Abs(mse - want.GetProperty("mse").GetDouble()) <= 1e-4 * Math.Max(1, mse), $"{name}: MSE {mse} vs {want.GetProperty("mse")}");
            Assert.True(Math.Abs(FidelityMetrics.Psnr(a, b, range) - want.GetProperty("psnr").GetDouble()) <= 1e-4, $"{name}: PSNR");
            var ssim = StructuralSimilarity.Compute(a, b, range);
            Assert.True(Math.Abs(ssim.Mean - want.GetProperty("ssim").GetDouble()) <= 1e-4, $"{name}: SSIM {ssim.Mean} vs {want.GetProperty("ssim")}");
            var map = Python.ReadRaw(folder.File(name + ".map"));
            var worst = map.Select((s, j) => Math.Abs(s - ssim.Map!.Pixels[j])).Max();
            Assert.True(worst <= 1e-4, $"{name}: SSIM map differs by up to {worst}");
        }
    }
}
