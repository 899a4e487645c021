using System.Diagnostics;
using System.Globalization;
using Pipeline.Denoising.Architectures;
using Pipeline.Denoising.Evaluation;
using Pipeline.Denoising.Export;
using Pipeline.Denoising.Inference;
using Pipeline.Denoising.Models;
using Pipeline.Denoising.Training.Inference;
using Pipeline.Denoising.Training.Training;
using Pipeline.Imaging;
using Pipeline.Imaging.Metrics;
using Pipeline.Imaging.Nifti;
using Pipeline.Imaging.Noise;

namespace Pipeline.Benchmarks;

/// <summary>
/// Self-supervised training against supervised: the same architecture, steps, batch and seed trained (a) supervised on
/// clean training slices with synthetic Rician noise at the protocol's levels, (b) neighbor2neighbor and (c) noise2void on
/// noisy copies of the same slices alone (made once, seeded, at each protocol scaling and level); each scored on the
/// protocol's held-out test slices, PSNR/SSIM per level, and its bias (mean output minus clean) in background and head.
/// The self-supervised models are also scored after the Rician bias correction the nlm-unbiased baseline uses.
/// `self-supervised [--data NIFTI] [--steps 300] [--patch 64] [--batch 16] [--slices 12] [--seed 1]`.
/// The test slices are held-out slices of the training volume: this compares training modes within one subject; it is
/// not a generalisation (leave-one-volume-out) figure.
/// Never point --data at mricron-data's inia19 files: they are held for independent checks.
/// </summary>
public sealed class SelfSupervisedBenchmark : IBenchmark
{
    public string Name => "self-supervised";

    public string Description => "supervised vs neighbor2neighbor vs noise2void (noisy copies only), same budget: held-out PSNR/SSIM and Rician bias";

    public Task<int> RunAsync(string[] args)
    {
        NativeAllocator.KeepFreedMemory();
        var data = Arguments.Get(args, "data", "/usr/share/mricron/templates/ch2.nii.gz");
        try
        {
            HeldOutData.Refuse(data);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return Task.FromResult(2);
        }
        var steps = Arguments.Int(args, "steps", 300);
        var seed = Arguments.Int(args, "seed", 1);
        var volume = NiftiReader.Read(data).Volume;
        var protocol = new QualityProtocolOptions { SliceCount = Arguments.Int(args, "slices", 12) };
        var levels = QualityProtocol.NoiseLevels;
        var split = TrainingDataSet.Split([new TrainingVolume(data, "", volume)]);
        var clean = split.Training[0];
        var noisy = NoisyCopies(volume, clean, levels, protocol, seed);
        Console.WriteLine($"{data}: {volume.Width}x{volume.Height}x{volume.Depth}; training slices 0-{split.Splits[0].TrainLast}, " +
            $"{noisy.Count} noisy copies of them ({string.Join(", ", protocol.Scalings.Select(s => s.Name))} x {QualityProtocol.NoiseLevelsSpec})");

        var options = new TrainingOptions
        {
            Architecture = ArchitectureSpec.UNetDenoiser(contextSlices: 1, predictsImage: true),
            NoiseTypes = ["rician"],
            MinLevel = levels.Min(l => l.Level),
            MaxLevel = levels.Max(l => l.Level),
            MinPeak = protocol.Scalings.Min(s => s.Peak),
            MaxPeak = protocol.Scalings.Max(s => s.Peak),
            Steps = steps,
            PatchSize = Arguments.Int(args, "patch", 64),
            BatchSize = Arguments.Int(args, "batch", 16),
            // One validation, at the end: no model selection on clean data for any arm.
            ValidateEvery = steps,
            Patience = 0,
            Seed = seed,
        };
        Console.WriteLine($"unet 4 levels from 16 channels, 2.5D (1 each side), predicts the image; {steps} steps of {options.BatchSize} " +
            $"patches {options.PatchSize}x{options.PatchSize}, seed {seed}; scored on {protocol.SliceCount} test slices per case");

        var arms = new (string Name, TrainingOptions Options, IReadOnlyList<TrainingSeries> Data)[]
        {
            ("supervised", options, [clean]),
            ("neighbor2neighbor", options with { Mode = TrainingOptions.Neighbor2Neighbor, NoisyData = true }, noisy),
            ("noise2void", options with { Mode = TrainingOptions.Noise2Void, NoisyData = true }, noisy),
        };
        var models = new List<(string Name, SeriesDenoiser Model, bool Unbias)>();
        foreach (var (name, armOptions, training) in arms)
        {
            var clock = Stopwatch.StartNew();
            using var result = new Trainer(armOptions, training, split.Validation).Train().Network;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name}: {armOptions.Steps} steps in {clock.Elapsed.TotalSeconds:F0} s"));
            var engine = new OnnxRuntimeEngine(OnnxExporter.Export(result.Spec, result.Weights()), result.Spec, new EngineOptions());
            models.Add((name, new SeriesDenoiser(engine, NormalisationSpec.Default.ToOptions()), armOptions.Mode != TrainingOptions.Supervised));
        }

        var figures = Score(volume, levels, models, protocol);
        Console.WriteLine("held-out test slices, PSNR dB / SSIM (range 4095), mean over dim and bright; bias = mean(output - clean), grey levels");
        Console.WriteLine($"  {"method",-44}" + string.Concat(levels.Select(l => $"{l,22}")));
        foreach (var method in figures.Keys.Select(k => k.Method).Distinct())
        {
            Console.WriteLine($"  {method,-44}" + string.Concat(levels.Select(l =>
                string.Create(CultureInfo.InvariantCulture, $"{figures[(method, l)].Psnr,12:F2} {figures[(method, l)].Ssim,9:F4}"))));
            if (method != QualityReport.Noisy)
                Console.WriteLine($"  {"  bias background / head",-44}" + string.Concat(levels.Select(l =>
                    string.Create(CultureInfo.InvariantCulture, $"{figures[(method, l)].BackgroundBias,12:F1} / {figures[(method, l)].HeadBias,7:F1}"))));
        }
        foreach (var (a, b) in new[] { ("neighbor2neighbor", "supervised"), ("neighbor2neighbor", "noise2void"),
                     ("neighbor2neighbor+unbias", "supervised"), ("neighbor2neighbor+unbias", "noise2void+unbias") })
            Console.WriteLine($"  {a + " - " + b,-44}" + string.Concat(levels.Select(l => string.Create(CultureInfo.InvariantCulture,
                $"{figures[(a, l)].Psnr - figures[(b, l)].Psnr,12:+0.00;-0.00} {figures[(a, l)].Ssim - figures[(b, l)].Ssim,9:+0.0000;-0.0000}"))));
        foreach (var (_, model, _) in models)
            model.Engine.Dispose();
        return Task.FromResult(0);
    }

    /// <summary>The training slices at every protocol scaling and level, noised once: what a site without clean data has.</summary>
    private static List<TrainingSeries> NoisyCopies(Volume volume, TrainingSeries clean, IReadOnlyList<NoiseModel> levels,
        QualityProtocolOptions protocol, int seed)
    {
        var peak = QualityProtocol.HeadPeak(volume, protocol);
        var copies = new List<TrainingSeries>();
        foreach (var scaling in protocol.Scalings)
        {
            var scaled = clean.Slices.Select(s => QualityProtocol.Scale(s, scaling.Peak * protocol.DataRange / peak)).ToArray();
            foreach (var noise in levels)
            {
                var copySeed = NoiseModel.SliceSeed(seed ^ 0x2A2A, copies.Count);
                var slices = new Image[scaled.Length];
                Parallel.For(0, scaled.Length, k => slices[k] = noise.Apply(scaled[k], protocol.DataRange, NoiseModel.SliceSeed(copySeed, k)));
                copies.Add(new TrainingSeries($"{scaling.Name}-{noise}", slices));
            }
        }
        return copies;
    }

    private sealed record Figures(double Psnr, double Ssim, double BackgroundBias, double HeadBias);

    /// <summary>
    /// Every model on every protocol case's test slices (each with its context): PSNR/SSIM and the bias (mean output minus
    /// clean) in the background (clean at or below the protocol's head threshold) and the head, averaged over scalings and
    /// slices per level; self-supervised models also after the Rician bias correction.
    /// </summary>
    private static Dictionary<(string Method, NoiseModel Level), Figures> Score(Volume volume, IReadOnlyList<NoiseModel> levels,
        List<(string Name, SeriesDenoiser Model, bool Unbias)> models, QualityProtocolOptions protocol)
    {
        var slices = QualityProtocol.SelectSlices(volume, protocol);
        var cases = QualityProtocol.Cases(volume, levels, slices, 1, protocol);
        var threshold = QualityProtocol.HeadThreshold(volume, protocol) / QualityProtocol.HeadPeak(volume, protocol);
        var all = new Dictionary<(string, NoiseModel), List<Figures>>();
        void Add(string method, QualityCase c, int k, Image output)
        {
            var truth = c.Clean[k].Pixels;
            var headLevel = threshold * c.Scaling.Peak * protocol.DataRange;
            double background = 0, head = 0;
            var heads = 0;
            for (var i = 0; i < truth.Length; i++)
            {
                var d = output.Pixels[i] - truth[i];
                if (truth[i] > headLevel)
                    (head, heads) = (head + d, heads + 1);
                else
                    background += d;
            }
            var figures = new Figures(FidelityMetrics.Psnr(c.Clean[k], output, protocol.DataRange),
                StructuralSimilarity.Mean(c.Clean[k], output, protocol.DataRange), background / (truth.Length - heads), head / heads);
            if (!all.TryGetValue((method, c.Noise), out var list))
                all[(method, c.Noise)] = list = [];
            list.Add(figures);
        }
        foreach (var c in cases)
            foreach (var k in slices)
            {
                Add(QualityReport.Noisy, c, k, c.Noisy[k]);
                var stack = QualityProtocol.Stack(c.Noisy, k, 1, volume.Depth);
                foreach (var (name, model, unbias) in models)
                {
                    var output = model.Denoise(stack)[1];
                    Add(name, c, k, output);
                    // A self-supervised model learns the noisy data's conditional mean, biased up by Rician noise (to
                    // sigma sqrt(pi/2) in air): the nlm-unbiased baseline's correction, sigma from the slices' background.
                    if (unbias)
                        Add(name + "+unbias", c, k, RicianStatistics.CorrectBias(output, RicianStatistics.EstimateSigma(stack).Sigma));
                }
            }
        return all.ToDictionary(kv => kv.Key, kv => new Figures(kv.Value.Average(f => f.Psnr), kv.Value.Average(f => f.Ssim),
            kv.Value.Average(f => f.BackgroundBias), kv.Value.Average(f => f.HeadBias)));
    }
}
