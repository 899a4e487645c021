using Pipeline.Denoising.Models;
using Pipeline.Denoising.Training.Networks;
using Pipeline.Denoising.Training.Training;
using Pipeline.Imaging;
using Pipeline.Imaging.Noise;
using static TorchSharp.torch;

namespace Pipeline.Denoising.Training.Tests;

/// <summary>Neighbor2Neighbor: the random neighbour sub-sampler, its loss, and a short run on noisy data alone.</summary>
public sealed class Neighbor2NeighborTests
{
    private static TrainingOptions Options(int steps = 30) =>
        TrainerTests.Tiny(steps: steps) with { Mode = TrainingOptions.Neighbor2Neighbor };

    private static PatchSampler Sampler(TrainingOptions options) =>
        new(options, [TrainerTests.Phantom("a", 4, 1)], NormalisationSpec.Default.ToOptions());

    [Fact]
    public void The_sub_sampler_takes_two_different_edge_adjacent_pixels_of_each_2x2_cell_of_the_same_noisy_patch()
    {
        var options = Options();
        var batch = Sampler(options).Sample(3);
        int p = options.PatchSize, half = p / 2, q = half * half, c = options.Architecture.InChannels, k = options.Architecture.ContextSlices;
        var pairs = batch.Neighbours!;
        var seen = new HashSet<(long, long)>();
        for (var n = 0; n < options.BatchSize; n++)
        {
            // Both sub-images are drawn from the one noisy patch: the target is the input's noisy centre itself.
            Assert.Equal(batch.Inputs.AsSpan((n * c + k) * p * p, p * p).ToArray(), batch.Targets.AsSpan(n * p * p, p * p).ToArray());
            for (var i = 0; i < q; i++)
            {
                long a = pairs.First[n * q + i], b = pairs.Second[n * q + i];
                var (cy, cx) = (i / half, i % half);
                foreach (var pixel in new[] { a, b })
                {
                    Assert.Equal(cy, pixel / p / 2);
                    Assert.Equal(cx, pixel % p / 2);
                }
                Assert.Equal(1, Math.Abs(a / p - b / p) + Math.Abs(a % p - b % p));
                seen.Add((a / p % 2 * 2 + a % 2, b / p % 2 * 2 + b % 2));
            }
        }
        Assert.Equal(8, seen.Count);

        // The tensor side picks exactly those pixels, in every channel.
        using var images = Tensors.Copy(batch.Inputs, options.BatchSize, c, p, p);
        using var first = tensor(pairs.First, [options.BatchSize, q]);
        using var g1 = NeighbourSubsampler.Apply(images, first);
        Assert.Equal(new long[] { options.BatchSize, c, half, half }, g1.shape);
        var values = g1.data<float>().ToArray();
        for (var n = 0; n < options.BatchSize; n++)
            for (var i = 0; i < q; i++)
                Assert.Equal(batch.Inputs[(n * c + k) * p * p + pairs.First[n * q + i]], values[(n * c + k) * q + i]);
    }

    [Fact]
    public void The_sub_sampler_draw_is_reproducible_from_seed_and_step()
    {
        var options = Options();
        var a = Sampler(options).Sample(5).Neighbours!;
        var b = Sampler(options).Sample(5).Neighbours!;
        var other = Sampler(options).Sample(6).Neighbours!;
        Assert.Equal(a.First, b.First);
        Assert.Equal(a.Second, b.Second);
        Assert.NotEqual(a.First, other.First);
    }

    [Fact]
    public void Noisy_training_data_gets_no_synthetic_noise()
    {
        // The phantom holds four intensities; any added noise would give a patch many more distinct values.
        var options = Options() with { NoisyData = true };
        var batch = Sampler(options).Sample(2);
        var p = options.PatchSize;
        for (var n = 0; n < options.BatchSize; n++)
            Assert.InRange(batch.Targets.AsSpan(n * p * p, p * p).ToArray().Distinct().Count(), 1, 4);
        Assert.Throws<ArgumentException>(() => (options with { Mode = TrainingOptions.Supervised }).Validate());
    }

    [Fact]
    public void The_full_image_prediction_carries_no_gradient_only_the_sub_image_prediction_does()
    {
        // Pixels that neither sub-image takes reach the loss only through f(y); taken without gradient, as the paper
        // prescribes, they get none. (The residual network's f(y) depends on every pixel, so with gradient they would.)
        manual_seed(3);
        var options = Options();
        var batch = Sampler(options).Sample(1);
        int b = options.BatchSize, c = options.Architecture.InChannels, p = options.PatchSize, q = p * p / 4;
        using var network = DenoisingNetwork.Create(options.Architecture);
        using var noisy = Tensors.Copy(batch.Inputs, b, c, p, p).requires_grad_();
        using var centre = Tensors.Copy(batch.Targets, b, 1, p, p);
        using var loss = Trainer.Neighbor2NeighborLoss(network, noisy, centre, batch.Neighbours!, consistencyWeight: 2);
        loss.backward();
        var gradient = noisy.grad!.data<float>().ToArray();
        var picked = new HashSet<long>();
        for (var n = 0; n < b; n++)
            for (var i = 0; i < q; i++)
            {
                picked.Add(n * p * p + batch.Neighbours!.First[n * q + i]);
                picked.Add(n * p * p + batch.Neighbours!.Second[n * q + i]);
            }
        for (var i = 0; i < gradient.Length; i++)
            if (!picked.Contains(i))
                Assert.Equal(0f, gradient[i]);
        Assert.Contains(picked, i => gradient[i] != 0);
    }

    [Fact]
    public void Sixty_steps_on_noisy_copies_alone_lower_the_validation_error_well_below_the_untrained_network()
    {
        // Training data: fixed noisy copies of the phantom (scaled to 60 % of the range); no clean slice is read in training.
        // Gaussian noise: the zero-mean noise the method assumes (Rician magnitude noise biases it: measured by the
        // self-supervised benchmark).
        var clean = TrainerTests.Phantom("a", 6, 1);
        var noise = new GaussianNoise(0.08);
        var noisy = new TrainingSeries("a-noisy", clean.Slices
            .Select((s, k) => noise.Apply(s.With(s.Pixels.Select(v => MathF.Round(v * 0.6f * 4095 / 200)).ToArray()), 4095, k)).ToArray());
        var validation = new[] { TrainerTests.Phantom("b", 3, 2) };
        var options = Options(steps: 60) with { NoisyData = true, NoiseTypes = ["gaussian"], MinLevel = 0.08, MaxLevel = 0.08 };

        var untrained = new Trainer(options with { Steps = 1, LearningRate = 1e-12 }, [noisy], validation).Train();
        var trained = new Trainer(options, [noisy], validation).Train();

        Assert.True(trained.Validation.Loss < 0.7 * untrained.Validation.Loss,
            $"validation MSE {trained.Validation.Loss:E3} vs untrained {untrained.Validation.Loss:E3}");
        Assert.True(trained.Validation.Psnr > trained.Validation.NoisyPsnr + 1,
            $"denoised {trained.Validation.Psnr:F2} dB vs noisy {trained.Validation.NoisyPsnr:F2} dB");
    }
}
