using System.Diagnostics;
using System.Globalization;
using Pipeline.Denoising.Baselines;
using Pipeline.Denoising.Evaluation;
using Pipeline.Imaging.Nifti;
using Pipeline.Imaging.Noise;

namespace Pipeline.Benchmarks;

/// <summary>
/// Our NLM (one thread, SIMD) against scikit-image's denoise_nl_means (fast mode, Cython) on the same noisy Colin27
/// test slice in the same run: `nlm [--repeats 7]` prints the median ms per slice of each (patch 5, distance 6).
/// </summary>
public sealed class NonLocalMeansBenchmark : IBenchmark
{
    private const string Script = """
        import sys, time, numpy as np
        from skimage.restoration import denoise_nl_means
        h, w, sigma, n = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
        x = np.fromfile(sys.argv[1], dtype='<f4').reshape(h, w).astype(np.float64)
        times = []
        for _ in range(n):
            t = time.perf_counter()
            denoise_nl_means(x, patch_size=5, patch_distance=6, h=0.6 * sigma, sigma=sigma, fast_mode=True, preserve_range=True)
            times.append(time.perf_counter() - t)
        print(1000 * sorted(times)[len(times) // 2])
        """;

    public string Name => "nlm";

    public string Description => "Non-local means: ours (SIMD, one thread) vs scikit-image on one Colin27 slice, ms per slice";

    public Task<int> RunAsync(string[] args)
    {
        var repeats = Arguments.Int(args, "repeats", 7);
        var volume = NiftiReader.Read("/usr/share/mricron/templates/ch2better.nii.gz").Volume;
        var k = QualityProtocol.SelectSlices(volume)[6];
        var noisy = QualityProtocol.Cases(volume, [new RicianNoise(0.1)], [k]).First().Noisy[k];
        var sigma = 0.1 * 4095;

        var times = new double[repeats];
        NonLocalMeans.Denoise(noisy, 0.6 * sigma, sigma);
        for (var i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            NonLocalMeans.Denoise(noisy, 0.6 * sigma, sigma);
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);

        var raw = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(raw, System.Runtime.InteropServices.MemoryMarshal.AsBytes(noisy.Pixels.AsSpan()).ToArray());
            var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { "-c", Script, raw, noisy.Height.ToString(CultureInfo.InvariantCulture), noisy.Width.ToString(CultureInfo.InvariantCulture),
                         sigma.ToString(CultureInfo.InvariantCulture), repeats.ToString(CultureInfo.InvariantCulture) })
                start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            var skimage = double.Parse(process.StandardOutput.ReadToEnd(), CultureInfo.InvariantCulture);
            process.WaitForExit();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"slice {k} {noisy.Width}x{noisy.Height}, Rician 10 %, patch 5, distance 6, median of {repeats}: ours {times[repeats / 2]:F1} ms, scikit-image {skimage:F1} ms, ratio {skimage / times[repeats / 2]:F2}x"));
        }
        finally
        {
            File.Delete(raw);
        }
        return Task.FromResult(0);
    }
}
