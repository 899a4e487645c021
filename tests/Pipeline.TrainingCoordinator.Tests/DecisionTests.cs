using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.Denoising.Models;
using Pipeline.Promotion;
using Pipeline.Registry;
using Pipeline.Storage;
using Pipeline.Storage.Local;

namespace Pipeline.TrainingCoordinator.Tests;

/// <summary>
/// The decision step as the service wires it (AddTrainingCoordinator on MassTransit's in-memory test harness, a real
/// local-folder store): the gate's verdict moves the registry and tells the workers, or marks the candidate rejected.
/// </summary>
public sealed class DecisionTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("coordinator-tests-").FullName;
    private IHost _host = null!;

    public async Task InitializeAsync()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ModelRegistry:CacheFolder"] = Path.Combine(_root, "model-cache"),
            ["TrainingCoordinator:Schedule"] = "",
        });
        builder.Services.AddSingleton<IObjectStore>(new LocalFolderObjectStore(new LocalFolderStorageOptions { Root = Path.Combine(_root, "store") }));
        builder.Services.AddSingleton(Options.Create(new StorageOptions { OutputBucket = "denoised" }));
        builder.AddTrainingCoordinator();
        builder.Services.AddMassTransitTestHarness(bus => bus.AddTrainingCoordinatorConsumers());
        _host = builder.Build();
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Requirement_a_candidate_the_gate_passes_becomes_current_and_is_announced_to_workers_and_one_it_fails_is_marked_rejected()
    {
        var registry = _host.Services.GetRequiredService<ModelRegistry>();
        var harness = _host.Services.GetRequiredService<ITestHarness>();
        var steps = _host.Services.GetRequiredService<RunSteps>();
        await registry.EnsureCurrentAsync("denoiser", DenoisingModel.DefaultFolder);
        var better = await registry.PublishAsync(DenoisingModel.DefaultFolder, new ModelVersionId("denoiser", "2"), promote: false);
        var worse = await registry.PublishAsync(DenoisingModel.DefaultFolder, new ModelVersionId("denoiser", "3"), promote: false);
        var plan = new RunPlan("run-1", RetrainRequested.OnRequest, null, DateTimeOffset.UtcNow, 1, 1, "denoiser/1", [], []);

        var promoted = await steps.DecideAsync(plan, better, Pairs(psnrGain: 1), CancellationToken.None);

        Assert.True(promoted.Promote, promoted.Reason);
        Assert.Equal(better, await registry.TryGetCurrentAsync("denoiser"));
        Assert.True(await harness.Published.Any<ModelVersionPublished>());
        var announced = harness.Published.Select<ModelVersionPublished>().Single().Context.Message;
        var files = ModelFolder.Load(DenoisingModel.DefaultFolder).Manifest.Files;
        Assert.Equal(("denoiser/2", "denoiser/versions/2/manifest.json", files.Onnx.Sha256, files.Weights.Sha256),
            (announced.ModelVersion, announced.Manifest.Key, announced.OnnxSha256, announced.WeightsSha256));

        var rejected = await steps.DecideAsync(plan with { Baseline = "denoiser/2" }, worse, Pairs(psnrGain: -1), CancellationToken.None);

        Assert.False(rejected.Promote);
        Assert.Equal(better, await registry.TryGetCurrentAsync("denoiser"));
        var details = await registry.ShowAsync(worse);
        Assert.Equal(VersionState.Rejected, details.State);
        Assert.Equal(("run-1", rejected.Reason), (details.Rejection!.RunId, details.Rejection.Reason));
        Assert.Single(harness.Published.Select<ModelVersionPublished>());
    }

    /// <summary>Eight held-out slices whose candidate PSNR differs from the baseline's by about <paramref name="psnrGain"/>, SSIM equal.</summary>
    private static List<SlicePair> Pairs(double psnrGain) =>
        [.. Enumerable.Range(0, 8).Select(i => new SlicePair("bright", "rician:0.1", i, 30 + psnrGain + 0.01 * i, 0.9, 30, 0.9))];
}
