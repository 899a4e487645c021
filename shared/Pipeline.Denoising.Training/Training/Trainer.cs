using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Denoising.Architectures;
using Pipeline.Denoising.Export;
using Pipeline.Denoising.Inference;
using Pipeline.Denoising.Models;
using Pipeline.Denoising.Training.Inference;
using Pipeline.Denoising.Training.Networks;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Pipeline.Denoising.Training.Training;

/// <summary>What a finished (or early-stopped) run produced: the best network by validation PSNR, and the verified model it
/// started from (null: random initialisation).</summary>
public sealed record TrainingResult(DenoisingNetwork Network, ValidationRecord Validation, int Steps, int BestStep, TimeSpan Elapsed,
    InitialWeights? InitialModel = null);

/// <summary>Training hit a non-finite loss or gradient; the message names the step and what was not finite.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>
/// Trains a denoising network: Adam with cosine learning-rate decay, MSE (optionally + 1 - SSIM; Neighbor2Neighbor: its
/// own loss) in normalised units, validation every N steps, early stopping on validation PSNR, checkpoints
/// that a later run resumes bit-identically. Deterministic for a seed on CPU.
/// </summary>
public sealed class Trainer(TrainingOptions options, IReadOnlyList<TrainingSeries> training, IReadOnlyList<TrainingSeries> validation,
    ILogger? logger = null)
{
    private const string StateFile = "state.json";
    private const string WeightsFile = "weights.safetensors";
    private const string OptimizerFile = "optimizer.bin";
    private const string BestFile = "best.safetensors";
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    private sealed record CheckpointState(int Step, int BestStep, double BestPsnr, int StaleValidations, double Seconds);

    public TrainingResult Train(IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        NativeAllocator.KeepFreedMemory();
        var engineOptions = new EngineOptions { Threads = options.Threads, Device = DevicePreference.Cpu };
        // The NaN weights once blamed on 2+ libtorch threads came from oneDNN's gradients of 1-channel
        // convolutions, on any thread count; the networks keep oneDNN to block-aligned ones (DenoisingNetwork.Convolve).
        set_num_threads(engineOptions.ResolvedThreads);
        manual_seed(options.Seed);
        var (network, initialModel) = options.InitialModel is { } initial ? LoadInitial(initial) : (DenoisingNetwork.Create(options.Architecture), null);
        var normalisation = NormalisationSpec.Default.ToOptions();
        var sampler = new PatchSampler(options, training, normalisation);
        var validationSet = new ValidationSet(options, validation, normalisation);
        using var optimizer = optim.Adam(network.parameters(), lr: options.LearningRate);
        using var ssimWindow = options.SsimWeight > 0 ? GaussianWindow() : null;

        var state = new CheckpointState(0, 0, double.MinValue, 0, 0);
        Dictionary<string, Tensor>? best = null;
        if (options.CheckpointFolder is { } folder && File.Exists(Path.Combine(folder, StateFile)))
        {
            state = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(Path.Combine(folder, StateFile)))!;
            network.load_safetensors(Path.Combine(folder, WeightsFile));
            optimizer.load_state_dict(Path.Combine(folder, OptimizerFile));
            if (File.Exists(Path.Combine(folder, BestFile)))
                best = Snapshot(DenoisingNetwork.Load(options.Architecture, Path.Combine(folder, BestFile)));
            Log.Resuming(_logger, state.Step, folder);
        }

        var clock = Stopwatch.StartNew();
        TimeSpan Elapsed() => TimeSpan.FromSeconds(state.Seconds) + clock.Elapsed;
        var step = state.Step;
        ValidationRecord? last = null;
        var stop = false;
        network.train();
        // The next batch is drawn while libtorch trains on this one (a batch depends only on seed and step).
        var first = step;
        var nextBatch = Task.Run(() => sampler.Sample(first), cancellationToken);
        while (step < options.Steps && !stop)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var lr = LearningRate(step, Elapsed());
            foreach (var group in optimizer.ParamGroups)
                group.LearningRate = lr;
            var batch = nextBatch.GetAwaiter().GetResult();
            var following = step + 1;
            nextBatch = Task.Run(() => sampler.Sample(following), cancellationToken);
            var loss = Step(network, optimizer, batch, ssimWindow, step + 1, options.ConsistencyWeight * Progress(step, Elapsed()));
            step++;

            double? validationPsnr = null;
            var outOfTime = options.TimeBudget is { } budget && Elapsed() >= budget;
            if (step % options.ValidateEvery == 0 || step == options.Steps || outOfTime)
            {
                last = Validate(network, validationSet, engineOptions);
                validationPsnr = last.Psnr;
                if (last.Psnr > state.BestPsnr)
                {
                    state = state with { BestPsnr = last.Psnr, BestStep = step, StaleValidations = 0 };
                    DisposeAll(best);
                    best = Snapshot(network);
                    if (options.CheckpointFolder is { } f)
                    {
                        Directory.CreateDirectory(f);
                        network.SaveSafetensors(Path.Combine(f, BestFile));
                    }
                }
                else
                {
                    state = state with { StaleValidations = state.StaleValidations + 1 };
                }
                Log.Validated(_logger, step, last.Psnr, last.Ssim, last.NoisyPsnr);
                stop = outOfTime || (options.Patience > 0 && state.StaleValidations >= options.Patience);
            }
            state = state with { Step = step };
            if (options.CheckpointFolder is { } checkpoint && (step % options.CheckpointEvery == 0 || stop || step == options.Steps))
                SaveCheckpoint(checkpoint, network, optimizer, state with { Seconds = Elapsed().TotalSeconds });
            progress?.Report(new TrainingProgress(step, options.Steps, loss, lr, Elapsed(), validationPsnr,
                state.BestStep > 0 ? state.BestPsnr : null));
        }

        if (best is not null)
        {
            network.load_state_dict(best);
            DisposeAll(best);
        }
        var final = state.BestStep == step && last is not null ? last : Validate(network, validationSet, engineOptions);
        return new TrainingResult(network, final, step, state.BestStep == 0 ? step : state.BestStep, Elapsed(), initialModel);
    }

    /// <summary>
    /// How far the run is, 0 to 1: by steps, or by the time budget if that ends first (a run stopped by its budget still
    /// ends on its final schedules).
    /// </summary>
    private double Progress(int step, TimeSpan elapsed)
    {
        var t = Math.Min(1.0, step / (double)Math.Max(1, options.Steps - 1));
        return options.TimeBudget is { } budget ? Math.Max(t, Math.Min(1.0, elapsed / budget)) : t;
    }

    /// <summary>Cosine decay from the initial rate to a fraction of it at the end of the run.</summary>
    internal double LearningRate(int step, TimeSpan elapsed)
    {
        var floor = options.LearningRate * options.FinalLearningRateFraction;
        return floor + (options.LearningRate - floor) * 0.5 * (1 + Math.Cos(Math.PI * Progress(step, elapsed)));
    }

    /// <summary>One optimiser step; refuses to apply a non-finite loss or gradient (step is 1-based, as logged).</summary>
    private double Step(DenoisingNetwork network, OptimizerHelper optimizer, PatchBatch batch, Tensor? ssimWindow, int step,
        double consistencyWeight)
    {
        float value;
        using (NewDisposeScope())
        {
            int b = options.BatchSize, c = options.Architecture.InChannels, p = options.PatchSize;
            var input = Tensors.Copy(batch.Inputs, b, c, p, p);
            var target = Tensors.Copy(batch.Targets, b, 1, p, p);
            var loss = batch.Neighbours is { } pairs
                ? Neighbor2NeighborLoss(network, input, target, pairs, consistencyWeight)
                : Loss(options, network.forward(input), target, batch, ssimWindow);
            optimizer.zero_grad();
            value = loss.item<float>();
            if (!float.IsFinite(value))
                throw new TrainingDivergedException($"Training step {step}: the loss is {value}; stopped before the weights became non-finite.");
            loss.backward();
            foreach (var (name, parameter) in network.named_parameters())
                if (parameter.grad is { } grad && !isfinite(grad).all().item<bool>())
                    throw new TrainingDivergedException($"Training step {step}: the gradient of {name} is not finite; stopped before the weights became non-finite.");
        }
        optimizer.step();
        return value;
    }

    /// <summary>The training loss of one batch (output and target B x 1 x P x P, normalised units).</summary>
    internal static Tensor Loss(TrainingOptions options, Tensor output, Tensor target, PatchBatch batch, Tensor? ssimWindow)
    {
        int b = options.BatchSize, p = options.PatchSize;
        if (options.ClampAtFloor)
            output = maximum(output, Tensors.Copy(batch.Floors, b, 1, 1, 1));
        var squared = (output - target).square();
        if (options.LossWeighting == TrainingOptions.NoiseRelativeLoss)
            squared = squared / Tensors.Copy(batch.NoiseLevels.Select(s => s * s).ToArray(), b, 1, 1, 1);
        Tensor loss;
        if (batch.Mask is { } m)
        {
            var mask = Tensors.Copy(m, b, 1, p, p);
            loss = (squared * mask).sum() / mask.sum();
        }
        else
        {
            loss = squared.mean();
        }
        if (ssimWindow is not null)
            loss = loss + options.SsimWeight * (1 - Ssim(output, target, ssimWindow));
        return loss;
    }

    /// <summary>
    /// Neighbor2Neighbor's loss on noisy patches y [B, C, P, P] (centre slice [B, 1, P, P]) and a sub-sampler draw g1/g2:
    /// |f(g1(y)) - g2(y)|^2 + gamma |f(g1(y)) - g2(y) - (g1(f(y)) - g2(f(y)))|^2, means over pixels. f(y) is computed
    /// without gradient, as the paper prescribes: the consistency term is a fixed target for the sub-image's output,
    /// not something the network may satisfy by changing its full-image output.
    /// </summary>
    internal static Tensor Neighbor2NeighborLoss(DenoisingNetwork network, Tensor noisy, Tensor noisyCentre, NeighbourPairs pairs,
        double consistencyWeight)
    {
        var (b, q) = (noisy.shape[0], pairs.First.Length / noisy.shape[0]);
        var first = tensor(pairs.First, [b, q]);
        var second = tensor(pairs.Second, [b, q]);
        Tensor fullGap;
        using (no_grad())
        {
            var full = network.forward(noisy);
            fullGap = NeighbourSubsampler.Apply(full, first) - NeighbourSubsampler.Apply(full, second);
        }
        var gap = network.forward(NeighbourSubsampler.Apply(noisy, first)) - NeighbourSubsampler.Apply(noisyCentre, second);
        return gap.square().mean() + consistencyWeight * (gap - fullGap).square().mean();
    }

    /// <summary>The verified weights of a model folder, refused unless its architecture is the one being trained.</summary>
    private (DenoisingNetwork, InitialWeights?) LoadInitial(string folder)
    {
        var model = ModelFolder.Load(folder);
        if (model.Manifest.Architecture != options.Architecture)
            throw new ArgumentException(
                $"Initial model '{folder}' is {Describe(model.Manifest.Architecture)}; this run trains {Describe(options.Architecture)}.");
        Log.StartingFromModel(_logger, model.Manifest.Version, folder);
        return (DenoisingNetwork.Load(options.Architecture, model.WeightsPath),
            new InitialWeights(model.Manifest.Version, model.Manifest.Files.Weights.Sha256));
        static string Describe(ArchitectureSpec spec) => JsonSerializer.Serialize(spec, ModelManifest.Json).ReplaceLineEndings(" ");
    }

    /// <summary>Scores the live weights through the production path: ONNX export and ONNX Runtime.</summary>
    private static ValidationRecord Validate(DenoisingNetwork network, ValidationSet set, EngineOptions engineOptions)
    {
        using var engine = new OnnxRuntimeEngine(OnnxExporter.Export(network.Spec, network.Weights()), network.Spec, engineOptions);
        return set.Evaluate(engine);
    }

    /// <summary>SSIM (Wang 2004: 11x11 Gaussian, sigma 1.5, valid region) in normalised units (range 1).</summary>
    internal static Tensor Ssim(Tensor x, Tensor y, Tensor window)
    {
        const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
        // A 1-output-channel convolution: off oneDNN like the networks' output layers (DenoisingNetwork.Convolve).
        Tensor Blur(Tensor t) => DenoisingNetwork.Convolve(t, window, null, padding: 0);
        var mx = Blur(x);
        var my = Blur(y);
        var sxx = Blur(x * x) - mx * mx;
        var syy = Blur(y * y) - my * my;
        var sxy = Blur(x * y) - mx * my;
        var map = (2 * mx * my + c1) * (2 * sxy + c2) / ((mx * mx + my * my + c1) * (sxx + syy + c2));
        return map.mean();
    }

    internal static Tensor GaussianWindow()
    {
        var g = Enumerable.Range(-5, 11).Select(i => Math.Exp(-i * i / (2 * 1.5 * 1.5))).ToArray();
        var sum = g.Sum();
        var w = new float[121];
        for (var i = 0; i < 11; i++)
            for (var j = 0; j < 11; j++)
                w[i * 11 + j] = (float)(g[i] * g[j] / (sum * sum));
        return tensor(w, [1, 1, 11, 11]);
    }

    private static Dictionary<string, Tensor> Snapshot(DenoisingNetwork network) =>
        network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    private static void DisposeAll(Dictionary<string, Tensor>? tensors)
    {
        foreach (var t in tensors?.Values ?? Enumerable.Empty<Tensor>())
            t.Dispose();
    }

    private static void SaveCheckpoint(string folder, DenoisingNetwork network, OptimizerHelper optimizer, CheckpointState state)
    {
        Directory.CreateDirectory(folder);
        network.SaveSafetensors(Path.Combine(folder, WeightsFile));
        optimizer.save_state_dict(Path.Combine(folder, OptimizerFile));
        // State last: it names the step the other files belong to.
        File.WriteAllText(Path.Combine(folder, StateFile), JsonSerializer.Serialize(state));
    }
}
