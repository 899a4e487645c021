using Pipeline.Denoising.Models;
using Pipeline.Promotion;
using Pipeline.Storage;
using Pipeline.Storage.Local;

namespace Pipeline.Registry.Tests;

/// <summary>Promotion, rollback, rejection, listing and decision records over a real local-folder store.</summary>
public sealed class ModelLifecycleTests : IDisposable
{
    private static readonly ModelVersionId V1 = new("denoiser", "1"), V2 = new("denoiser", "2");
    private readonly string _root = Directory.CreateTempSubdirectory("registry-lifecycle-").FullName;
    private readonly LocalFolderObjectStore _store;
    private readonly ModelRegistry _registry;

    public ModelLifecycleTests()
    {
        _store = new LocalFolderObjectStore(new LocalFolderStorageOptions { Root = Path.Combine(_root, "store") });
        _registry = new ModelRegistry(_store, new ModelRegistryOptions { CacheFolder = Path.Combine(_root, "cache") });
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>Version 1 (the bundled model) current, version 2 (same files, another manifest) published as a candidate.</summary>
    private async Task PublishTwoAsync()
    {
        await _registry.PublishAsync(DenoisingModel.DefaultFolder, V1, promote: true);
        await _registry.PublishAsync(OtherModelFolder(_root), V2, promote: false);
    }

    internal static string OtherModelFolder(string root)
    {
        var other = Path.Combine(root, "other-model");
        Directory.CreateDirectory(other);
        foreach (var file in Directory.GetFiles(DenoisingModel.DefaultFolder))
            File.Copy(file, Path.Combine(other, Path.GetFileName(file)), overwrite: true);
        var manifest = Path.Combine(other, ModelFolder.ManifestFile);
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"seed\"", "\"seed\": 99, \"unused\"", StringComparison.Ordinal));
        return other;
    }

    private async Task<Dictionary<string, VersionState>> StatesAsync() =>
        (await _registry.ListVersionsAsync("denoiser")).ToDictionary(e => e.Id.Version, e => e.State);

    private Task<byte[]> PointerBytesAsync() => _store.GetBytesAsync("models", ModelRegistryLayout.CurrentKey("denoiser"));

    [Fact]
    public async Task Promotion_keeps_the_replaced_version_for_rollback_and_rollback_marks_the_version_it_leaves_rejected()
    {
        // Requirement: promote moves the pointer and remembers the one it replaced; rollback returns there and records why;
        // with nothing before the current version, rollback refuses and changes nothing.
        await PublishTwoAsync();
        Assert.Equal(new() { ["1"] = VersionState.Current, ["2"] = VersionState.Candidate }, await StatesAsync());

        Assert.True(await _registry.PromoteAsync(V2, "operator"));
        Assert.False(await _registry.PromoteAsync(V2, "operator")); // already current: nothing moves
        Assert.Equal(V2, await _registry.TryGetCurrentAsync("denoiser"));
        Assert.Equal(new() { ["1"] = VersionState.Previous, ["2"] = VersionState.Current }, await StatesAsync());

        Assert.Equal(V1, await _registry.RollbackAsync("denoiser", "noise estimate regressed"));
        Assert.Equal(V1, await _registry.TryGetCurrentAsync("denoiser"));
        Assert.Equal(new() { ["1"] = VersionState.Current, ["2"] = VersionState.Rejected }, await StatesAsync());
        var shown = await _registry.ShowAsync(V2);
        Assert.Equal("rolled back: noise estimate regressed", shown.Rejection!.Reason);

        var before = await PointerBytesAsync();
        var e = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.RollbackAsync("denoiser", "again"));
        Assert.Contains("denoiser/1 is the first version made current: nothing to roll back to", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, await PointerBytesAsync());

        // An operator may promote a rejected version again: it becomes current and loses its mark.
        await _registry.PromoteAsync(V2, "operator overrides");
        Assert.Equal(new() { ["1"] = VersionState.Previous, ["2"] = VersionState.Current }, await StatesAsync());
    }

    [Fact]
    public async Task A_tampered_or_unknown_version_is_refused_and_the_registry_does_not_change()
    {
        // Requirement: promotion verifies the files in the store (not a cached copy) before the pointer moves; an unknown
        // or tampered version is a clear error and nothing changes. Rollback refuses a version whose manifest changed since.
        await PublishTwoAsync();
        await _registry.OpenAsync(V2); // a verified copy in the cache must not vouch for the store
        var key = ModelRegistryLayout.FileKey("denoiser", "2", ModelFolder.OnnxFile);
        var onnx = await _store.GetBytesAsync("models", key);
        onnx[onnx.Length / 2] ^= 0x5A;
        await _store.PutBytesAsync("models", key, onnx);
        var before = await PointerBytesAsync();

        var tampered = await Assert.ThrowsAsync<ModelIntegrityException>(() => _registry.PromoteAsync(V2, "operator"));
        Assert.Contains("model.onnx", tampered.Message, StringComparison.Ordinal);
        var unknown = await Assert.ThrowsAsync<ModelIntegrityException>(() => _registry.PromoteAsync(new ModelVersionId("denoiser", "9"), "operator"));
        Assert.Contains("denoiser/9 is not in the registry", unknown.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ModelIntegrityException>(() => _registry.RejectAsync(new ModelVersionId("denoiser", "9"), new Rejection("x", DateTimeOffset.UtcNow)));
        var current = await Assert.ThrowsAsync<ModelRegistryException>(() => _registry.RejectAsync(V1, new Rejection("x", DateTimeOffset.UtcNow)));
        Assert.Contains("denoiser/1 is the current version", current.Message, StringComparison.Ordinal);
        Assert.Equal(before, await PointerBytesAsync());
        Assert.Equal(new() { ["1"] = VersionState.Current, ["2"] = VersionState.Candidate }, await StatesAsync());

        // Version 1's manifest is rewritten after it was current (its files still verify against it): rollback refuses it.
        await _store.PutBytesAsync("models", key, await File.ReadAllBytesAsync(Path.Combine(DenoisingModel.DefaultFolder, ModelFolder.OnnxFile)));
        await _registry.PromoteAsync(V2, "operator");
        var manifestKey = ModelRegistryLayout.FileKey("denoiser", "1", ModelFolder.ManifestFile);
        await _store.PutBytesAsync("models", manifestKey, await File.ReadAllBytesAsync(Path.Combine(OtherModelFolder(_root), ModelFolder.ManifestFile)));
        before = await PointerBytesAsync();
        var changed = await Assert.ThrowsAsync<ModelIntegrityException>(() => _registry.RollbackAsync("denoiser", "regressed"));
        Assert.Contains("another manifest than when it was current", changed.Message, StringComparison.Ordinal);
        Assert.Equal(before, await PointerBytesAsync());
    }

    [Fact]
    public async Task Decision_records_round_trip_with_the_gate_verdict_and_show_names_the_runs_that_decided_on_a_version()
    {
        // Requirement: every run's decision (lineage, budget, steps, scores, intervals, verdict and why) is kept in the models
        // bucket under its run id and found again by version.
        await PublishTwoAsync();
        var rejected = PromotionGate.Decide([new SlicePair("bright", "rician:0.05", 3, 30, 0.9, 31, 0.91)]); // too few slices: NaN intervals
        var data = ModelFolder.Load(DenoisingModel.DefaultFolder).Manifest.Training.Data;
        DecisionRecord Run(string id, int day, string? candidate, bool promoted) => new(id, "schedule",
            new DateTimeOffset(2026, 12, day, 2, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 12, day, 3, 0, 0, TimeSpan.Zero), data,
            new TrainingBudget(400, 30), 400, candidate, "denoiser/1", new Dictionary<string, double> { ["candidate_psnr_mean"] = 30 },
            "denoised/model-scores/denoiser/2/ab.json", rejected, promoted, rejected.Reason);
        await _registry.WriteDecisionAsync("denoiser", Run("run-b", 2, "denoiser/2", false));
        await _registry.WriteDecisionAsync("denoiser", Run("run-a", 1, null, false));
        await _registry.RejectAsync(V2, new Rejection(rejected.Reason, DateTimeOffset.UtcNow, "run-b"));

        var runs = await _registry.ListDecisionsAsync("denoiser");
        Assert.Equal(["run-a", "run-b"], runs.Select(r => r.RunId));
        Assert.NotNull(await _store.TryStatAsync("models", "denoiser/runs/run-b.json"));
        Assert.True(double.IsNaN(runs[1].Gate!.Cases.Single().PsnrGain.Lower));
        Assert.Equal(rejected.Reason, runs[1].Reason);
        Assert.Equal(data, runs[1].Data);

        var shown = await _registry.ShowAsync(V2);
        Assert.Equal(VersionState.Rejected, shown.State);
        Assert.Equal("run-b", Assert.Single(shown.Decisions).RunId);
        Assert.Equal("run-b", shown.Rejection!.RunId);
        Assert.Equal(data, shown.Manifest.Training.Data);
        await Assert.ThrowsAsync<ModelIntegrityException>(() => _registry.ShowAsync(new ModelVersionId("denoiser", "9")));
    }
}
