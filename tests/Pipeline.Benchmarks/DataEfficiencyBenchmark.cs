using System.Globalization;
using Pipeline.Denoising.Architectures;
using Pipeline.Denoising.Evaluation;
using Pipeline.Denoising.Training.Inference;
using Pipeline.Denoising.Training.Training;
using Pipeline.Imaging.Nifti;
using Pipeline.Imaging.Pictures;

namespace Pipeline.Benchmarks;

/// <summary>
/// The seed's claim that denoising autoencoders need little data: the Gondara CDAE trained on 10, 30, 100 and all
/// training slices (evenly spaced in the lower 70 % of a volume) for the same number of steps and seed, scored on the
/// held-out validation slices (next 10 %, dim and bright, four Rician levels) through ONNX Runtime.
/// `data-efficiency [--data NIFTI] [--sizes 10,30,100,all] [--steps 60] [--patch 64] [--batch 16] [--chart PNG]`.
/// </summary>
public sealed class DataEfficiencyBenchmark : IBenchmark
{
    public string Name => "data-efficiency";

    public string Description => "CDAE trained on 10/30/100/all slices for the same steps: held-out PSNR/SSIM per size, chart";

    public Task<int> RunAsync(string[] args)
    {
        NativeAllocator.KeepFreedMemory();
        var data = Arguments.Get(args, "data", "/usr/share/mricron/templates/ch2.nii.gz");
        var steps = Arguments.Int(args, "steps", 60);
        var patch = Arguments.Int(args, "patch", 64);
        var batch = Arguments.Int(args, "batch", 16);
        var chart = Arguments.Get(args, "chart");
        var volume = NiftiReader.Read(data).Volume;
        var split = SliceSplit.ByPosition(volume.Depth);
        var trainCount = split.TrainLast + 1;
        var sizes = Arguments.Get(args, "sizes", "10,30,100,all").Split(',')
            .Select(s => s == "all" ? trainCount : Math.Min(trainCount, int.Parse(s, CultureInfo.InvariantCulture))).Distinct().ToArray();
        var validation = new[] { TrainingSeries.FromRange("validation", volume, split.ValidationFirst, split.ValidationLast) };
        Console.WriteLine($"{data}: {volume.Width}x{volume.Height}x{volume.Depth}, training slices 0-{split.TrainLast}, validation {split.ValidationFirst}-{split.ValidationLast}");
        Console.WriteLine($"cdae (linear output), {steps} steps of {batch} patches {patch}x{patch}, seed 1, Rician 2-22 %; held-out PSNR dB / SSIM (range 4095)");

        var curves = new List<QualityCurve>();
        foreach (var size in sizes)
        {
            // Evenly spaced slices of the training range, each its own one-slice series (no 2.5D context here).
            var slices = Enumerable.Range(0, size).Select(i => (int)Math.Round(i * (trainCount - 1) / (double)Math.Max(1, size - 1))).Distinct()
                .Select(k => TrainingSeries.FromRange($"slice{k}", volume, k, k)).ToArray();
            var options = new TrainingOptions
            {
                Architecture = ArchitectureSpec.GondaraCdae(OutputActivation.Linear),
                Steps = steps,
                PatchSize = patch,
                BatchSize = batch,
                ValidateEvery = steps,
                Patience = 0,
                Seed = 1,
            };
            // A diverged run throws TrainingDivergedException naming the step (Trainer).
            var result = new Trainer(options, slices, validation).Train();
            var v = result.Validation;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  slices {slices.Length,4}: PSNR {v.Psnr,6:F2}  SSIM {v.Ssim:F4}   (noisy input {v.NoisyPsnr:F2} / {v.NoisySsim:F4}; {result.Elapsed.TotalSeconds:F0} s)"));
            var points = v.Levels.GroupBy(l => l.Noise)
                .Select(g => new QualityPoint(double.Parse(g.Key.Split(':')[1], CultureInfo.InvariantCulture), g.Average(l => l.Psnr), g.Average(l => l.Ssim)))
                .ToArray();
            curves.Add(new QualityCurve($"{slices.Length} slices", points));
            result.Network.Dispose();
            if (size == sizes[0])
                curves.Insert(0, new QualityCurve("noisy", v.Levels.GroupBy(l => l.Noise)
                    .Select(g => new QualityPoint(double.Parse(g.Key.Split(':')[1], CultureInfo.InvariantCulture), g.Average(l => l.NoisyPsnr), g.Average(l => l.NoisySsim)))
                    .ToArray()));
        }
        if (chart is not null)
        {
            File.WriteAllBytes(chart, QualityChart.Render(curves, $"CDAE DATA EFFICIENCY, {steps} STEPS: HELD-OUT QUALITY BY NOISE LEVEL"));
            Console.WriteLine($"chart written to {chart}");
        }
        return Task.FromResult(0);
    }
}
