using Pipeline.Denoising.Architectures;
using Pipeline.Denoising.Models;
using Pipeline.Denoising.Training.Networks;
using Pipeline.Denoising.Training.Training;
using Pipeline.Imaging;

namespace Pipeline.Denoising.Training.Tests;

/// <summary>Bounded training runs on small synthetic phantoms (discs and bars of a few intensities).</summary>
public sealed class TrainerTests
{
    /// <summary>A 48x48 slice stack: an ellipse "head" with inner structures that shift with the slice.</summary>
    internal static TrainingSeries Phantom(string name, int slices, int seed)
    {
        var random = new Random(seed);
        var images = new List<Image>();
        for (var k = 0; k < slices; k++)
        {
            var pixels = new float[48 * 48];
            var (cx, cy) = (24 + random.Next(-2, 3), 24 + random.Next(-2, 3));
            for (var y = 0; y < 48; y++)
                for (var x = 0; x < 48; x++)
                {
                    double dx = (x - 24) / 20.0, dy = (y - 24) / 17.0;
                    if (dx * dx + dy * dy > 1)
                        continue;
                    var inner = Math.Pow((x - cx) / 7.0, 2) + Math.Pow((y - cy) / 5.0, 2) < 1;
                    pixels[y * 48 + x] = inner ? 200 : (x + k) % 12 < 6 ? 120 : 90;
                }
            images.Add(new Image(48, 48, pixels));
        }
        return new TrainingSeries(name, images);
    }

    internal static TrainingOptions Tiny(string? checkpoint = null, int steps = 30) => new()
    {
        Architecture = ArchitectureSpec.ResidualDenoiser(depth: 4, width: 16),
        PatchSize = 32,
        BatchSize = 8,
        Steps = steps,
        ValidateEvery = steps,
        LearningRate = 2e-3,
        MinLevel = 0.05,
        MaxLevel = 0.10,
        Threads = 2,
        Seed = 42,
        CheckpointFolder = checkpoint,
        CheckpointEvery = 3,
    };

    [Fact]
    public void Sixty_steps_lower_the_validation_error_well_below_the_untrained_network()
    {
        var train = new[] { Phantom("a", 6, 1) };
        var validation = new[] { Phantom("b", 3, 2) };

        var untrained = new Trainer(Tiny(steps: 1) with { LearningRate = 1e-12 }, train, validation).Train();
        var trained = new Trainer(Tiny(steps: 60), train, validation).Train();

        // Measured: untrained 6.2e-3 (noisy input 8.3e-3), 60 steps 5.4e-3 (+2.8 dB over the noisy input).
        Assert.True(trained.Validation.Loss < 0.9 * untrained.Validation.Loss,
            $"validation MSE {trained.Validation.Loss:E3} vs untrained {untrained.Validation.Loss:E3}");
        Assert.True(trained.Validation.Psnr > trained.Validation.NoisyPsnr + 1,
            $"denoised {trained.Validation.Psnr:F2} dB vs noisy {trained.Validation.NoisyPsnr:F2} dB");
    }

    [Fact]
    public void A_diverging_run_stops_at_the_first_non_finite_loss_and_names_the_step()
    {
        // Adam moves every weight by about the learning rate on step 1: weights near 1e10 through four
        // convolutions overflow float32, so the loss of step 2 is not finite (step 1's is the untrained one).
        var options = Tiny(steps: 5) with { LearningRate = 1e10, FinalLearningRateFraction = 1 };
        var e = Assert.Throws<TrainingDivergedException>(() => new Trainer(options, [Phantom("a", 3, 1)], [Phantom("b", 2, 2)]).Train());
        Assert.StartsWith("Training step 2: the loss is ", e.Message);
    }

    [Fact]
    public void A_run_resumed_from_a_checkpoint_ends_with_bit_identical_weights()
    {
        var train = new[] { Phantom("a", 4, 1) };
        var validation = new[] { Phantom("b", 2, 2) };
        var folder = Path.Combine(Path.GetTempPath(), $"ckpt-{Guid.NewGuid():N}");
        try
        {
            var straight = new Trainer(Tiny(steps: 6), train, validation).Train();

            using var cancel = new CancellationTokenSource();
            var interrupted = new Trainer(Tiny(folder, steps: 6), train, validation);
            Assert.Throws<OperationCanceledException>(() => interrupted.Train(
                new SynchronousProgress(p => { if (p.Step == 3) cancel.Cancel(); }), cancel.Token));
            var resumed = new Trainer(Tiny(folder, steps: 6), train, validation).Train();

            Assert.Equal(6, resumed.Steps);
            var a = straight.Network.Weights();
            var b = resumed.Network.Weights();
            foreach (var key in a.Keys)
                Assert.Equal(a[key].Values, b[key].Values);
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Noise2void_mode_learns_from_noisy_targets_alone()
    {
        var options = Tiny(steps: 60) with { Mode = TrainingOptions.Noise2Void, BlindSpotFraction = 0.05 };
        var result = new Trainer(options, [Phantom("a", 6, 1)], [Phantom("b", 3, 2)]).Train();
        Assert.True(result.Validation.Psnr > result.Validation.NoisyPsnr,
            $"denoised {result.Validation.Psnr:F2} dB vs noisy {result.Validation.NoisyPsnr:F2} dB");
    }

    [Fact]
    public void A_written_model_loads_verified_and_a_tampered_onnx_is_refused()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"model-{Guid.NewGuid():N}");
        try
        {
            var options = Tiny(steps: 2);
            var result = new Trainer(options, [Phantom("a", 3, 1)], [Phantom("b", 2, 2)]).Train();
            ModelWriter.Write(folder, result, options, [new DataLineage("phantom", "", "train", 0, 2)]);

            var loaded = ModelFolder.Load(folder);
            Assert.Equal(options.Architecture, loaded.Manifest.Architecture);
            Assert.Equal(64, loaded.Manifest.Files.Onnx.Sha256.Length);
            Assert.Equal(result.Network.Weights()["body.0.weight"].Values,
                DenoisingNetwork.Load(loaded.Manifest.Architecture, loaded.WeightsPath).Weights()["body.0.weight"].Values);

            var onnxPath = Path.Combine(folder, ModelFolder.OnnxFile);
            var bytes = File.ReadAllBytes(onnxPath);
            bytes[^1] ^= 1;
            File.WriteAllBytes(onnxPath, bytes);
            var e = Assert.Throws<ModelIntegrityException>(() => ModelFolder.Load(folder));
            Assert.Contains("model.onnx", e.Message);
            Assert.Contains("does not match its manifest", e.Message);
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_run_started_from_a_model_begins_at_its_verified_weights_and_records_where_it_started()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"model-{Guid.NewGuid():N}");
        var tuned = Path.Combine(Path.GetTempPath(), $"model-{Guid.NewGuid():N}");
        try
        {
            var train = new[] { Phantom("a", 3, 1) };
            var validation = new[] { Phantom("b", 2, 2) };
            var first = Tiny(steps: 2);
            var initial = ModelWriter.Write(folder, new Trainer(first, train, validation).Train(), first, []);

            // A learning rate far below float32 resolution leaves the weights where they started.
            var options = Tiny(steps: 1) with { LearningRate = 1e-20, InitialModel = folder, Seed = 7 };
            var result = new Trainer(options, train, validation).Train();
            var start = DenoisingNetwork.Load(initial.Architecture, Path.Combine(folder, ModelFolder.WeightsFile)).Weights();
            foreach (var (key, weights) in result.Network.Weights())
                Assert.Equal(start[key].Values, weights.Values);
            var fresh = new Trainer(options with { InitialModel = null }, train, validation).Train().Network.Weights();
            Assert.NotEqual(start["body.0.weight"].Values, fresh["body.0.weight"].Values);

            var manifest = ModelWriter.Write(tuned, result, options, []);
            Assert.Equal(new InitialWeights(initial.Version, initial.Files.Weights.Sha256), manifest.Training.InitialModel);
            Assert.Equal(manifest.Training.InitialModel, ModelFolder.Load(tuned).Manifest.Training.InitialModel);

            var wider = Assert.Throws<ArgumentException>(() => new Trainer(options with
            {
                Architecture = ArchitectureSpec.ResidualDenoiser(depth: 4, width: 32),
            }, train, validation).Train());
            Assert.StartsWith($"Initial model '{folder}' is ", wider.Message);

            var weightsPath = Path.Combine(folder, ModelFolder.WeightsFile);
            var bytes = File.ReadAllBytes(weightsPath);
            bytes[^1] ^= 1;
            File.WriteAllBytes(weightsPath, bytes);
            var tampered = Assert.Throws<ModelIntegrityException>(() => new Trainer(options, train, validation).Train());
            Assert.Contains("weights.safetensors", tampered.Message);
        }
        finally
        {
            foreach (var f in new[] { folder, tuned })
                if (Directory.Exists(f))
                    Directory.Delete(f, recursive: true);
        }
    }

    [Fact]
    public void Each_patch_carries_the_noise_level_it_was_given_in_normalised_units()
    {
        // Gaussian noise is additive everywhere, so the input minus the clean target is the noise itself: its standard
        // deviation per patch must match the recorded level (the weight of the noise-relative loss).
        var options = Tiny() with { NoiseTypes = ["gaussian"], MinLevel = 0.02, MaxLevel = 0.2 };
        var sampler = new PatchSampler(options, [Phantom("a", 4, 1)], NormalisationSpec.Default.ToOptions());
        var batch = sampler.Sample(3);
        int p = options.PatchSize, c = options.Architecture.InChannels, k = options.Architecture.ContextSlices;
        var levels = new List<double>();
        for (var n = 0; n < options.BatchSize; n++)
        {
            double sum = 0, sumSquares = 0;
            for (var i = 0; i < p * p; i++)
            {
                var d = batch.Inputs[(n * c + k) * p * p + i] - batch.Targets[n * p * p + i];
                sum += d;
                sumSquares += d * d;
            }
            var std = Math.Sqrt(sumSquares / (p * p) - Math.Pow(sum / (p * p), 2));
            Assert.InRange(batch.NoiseLevels[n], 0.9 * std, 1.1 * std);
            levels.Add(batch.NoiseLevels[n]);
        }
        Assert.True(levels.Max() > 2 * levels.Min(), "levels are drawn across the range");
    }

    [Fact]
    public void A_noise_relative_loss_still_learns()
    {
        var options = Tiny(steps: 60) with { LossWeighting = TrainingOptions.NoiseRelativeLoss };
        var result = new Trainer(options, [Phantom("a", 6, 1)], [Phantom("b", 3, 2)]).Train();
        Assert.True(result.Validation.Psnr > result.Validation.NoisyPsnr + 1,
            $"denoised {result.Validation.Psnr:F2} dB vs noisy {result.Validation.NoisyPsnr:F2} dB");
        Assert.Throws<ArgumentException>(() => (options with { LossWeighting = "per-pixel" }).Validate());
    }

    [Fact]
    public void Each_patch_carries_its_series_floor_in_normalised_units()
    {
        // Without noise the floor is the phantom's air (0), and every 32x32 patch of it reaches air: its lowest target
        // pixel is that floor exactly, through the same mapping.
        var options = Tiny() with { MinLevel = 0, MaxLevel = 0 };
        var batch = new PatchSampler(options, [Phantom("a", 4, 1)], NormalisationSpec.Default.ToOptions()).Sample(5);
        int p = options.PatchSize;
        for (var n = 0; n < options.BatchSize; n++)
            Assert.Equal(batch.Targets.AsSpan(n * p * p, p * p).ToArray().Min(), batch.Floors[n]);
        Assert.True(batch.Floors.Distinct().Count() > 1, "brightness (and so the mapping) varies per patch");
    }

    [Fact]
    public void The_floor_clamped_loss_does_not_count_output_below_the_floor()
    {
        // Target at the floor everywhere; half the output pixels 0.5 below it. Clamped, as inference delivers it,
        // that is a perfect output; unclamped it costs 0.5^2 on half the pixels.
        var options = Tiny() with { BatchSize = 2, PatchSize = 16 };
        int b = options.BatchSize, p = options.PatchSize;
        var floors = new[] { 0.1f, -0.2f };
        var target = new float[b * p * p];
        var output = new float[b * p * p];
        for (var i = 0; i < target.Length; i++)
        {
            target[i] = floors[i / (p * p)];
            output[i] = target[i] - (i % 2 == 0 ? 0.5f : 0f);
        }
        var batch = new PatchBatch(new float[b * p * p], target, null, [0.1f, 0.1f], floors);
        double LossOf(TrainingOptions o) =>
            Trainer.Loss(o, Tensors.Copy(output, b, 1, p, p), Tensors.Copy(target, b, 1, p, p), batch, null).item<float>();
        Assert.Equal(0.125, LossOf(options), 6);
        Assert.Equal(0, LossOf(options with { ClampAtFloor = true }), 6);
    }

    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
