using Pipeline.Denoising.Models;
using Pipeline.Storage;
using Pipeline.Storage.Local;

namespace Pipeline.Registry.Tests;

/// <summary>The registry over a real local-folder store, with the bundled default model.</summary>
public sealed class ModelRegistryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("registry-tests-").FullName;
    private readonly LocalFolderObjectStore _store;
    private readonly ModelRegistry _registry;

    public ModelRegistryTests()
    {
        _store = new LocalFolderObjectStore(new LocalFolderStorageOptions { Root = Path.Combine(_root, "store") });
        _registry = NewRegistry("cache-a");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private ModelRegistry NewRegistry(string cache) =>
        new(_store, new ModelRegistryOptions { CacheFolder = Path.Combine(_root, cache) });

    [Fact]
    public async Task A_fresh_registry_gets_the_bundled_model_as_version_1_and_opens_it_verified()
    {
        Assert.Null(await _registry.TryGetCurrentAsync("denoiser"));

        var current = await _registry.EnsureCurrentAsync("denoiser", DenoisingModel.DefaultFolder);

        Assert.Equal("denoiser/1", current.ToString());
        Assert.Equal(current, await _registry.TryGetCurrentAsync("denoiser"));
        var keys = (await _store.ListAsync("models").ToListAsync()).Select(o => o.Key).ToList();
        Assert.Equal(["denoiser/current.json", "denoiser/versions/1/manifest.json", "denoiser/versions/1/model.onnx", "denoiser/versions/1/weights.safetensors"], keys);
        var model = await NewRegistry("cache-b").OpenAsync(current);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(DenoisingModel.DefaultFolder, ModelFolder.OnnxFile)), model.Onnx);
        // Once current, it stays: a second bootstrap does not publish again.
        Assert.Equal(current, await _registry.EnsureCurrentAsync("denoiser", DenoisingModel.DefaultFolder));
    }

    [Fact]
    public async Task A_tampered_version_in_the_store_is_refused_naming_the_file()
    {
        var version = await _registry.EnsureCurrentAsync("denoiser", DenoisingModel.DefaultFolder);
        var key = "denoiser/versions/1/model.onnx";
        var onnx = await _store.GetBytesAsync("models", key);
        onnx[onnx.Length / 2] ^= 0x5A;
        await _store.PutBytesAsync("models", key, onnx);

        var e = await Assert.ThrowsAsync<ModelIntegrityException>(() => NewRegistry("cache-c").OpenAsync(version));

        Assert.Contains("model.onnx", e.Message);
        Assert.Contains("SHA-256", e.Message);
        Assert.False(Directory.Exists(Path.Combine(_root, "cache-c", "denoiser", "1")), "an unverified copy must not stay in the cache");
    }

    [Fact]
    public async Task A_corrupted_cache_copy_is_fetched_again_from_the_store()
    {
        var version = await _registry.EnsureCurrentAsync("denoiser", DenoisingModel.DefaultFolder);
        await _registry.OpenAsync(version);
        var cached = Path.Combine(_root, "cache-a", "denoiser", "1", ModelFolder.WeightsFile);
        await File.WriteAllBytesAsync(cached, [1, 2, 3]);

        var model = await _registry.OpenAsync(version);

        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(DenoisingModel.DefaultFolder, ModelFolder.WeightsFile)), await File.ReadAllBytesAsync(cached));
        Assert.Equal(ModelFolder.Load(DenoisingModel.DefaultFolder).Manifest.Architecture, model.Manifest.Architecture);
    }

    [Fact]
    public async Task Versions_are_immutable_and_a_missing_version_is_a_clear_error()
    {
        await _registry.EnsureCurrentAsync("denoiser", DenoisingModel.DefaultFolder);
        var other = Path.Combine(_root, "other");
        Directory.CreateDirectory(other);
        foreach (var file in Directory.GetFiles(DenoisingModel.DefaultFolder))
            File.Copy(file, Path.Combine(other, Path.GetFileName(file)));
        var manifest = Path.Combine(other, ModelFolder.ManifestFile);
        await File.WriteAllTextAsync(manifest, (await File.ReadAllTextAsync(manifest)).Replace("\"seed\"", "\"seed\": 99, \"unused\"", StringComparison.Ordinal));

        await Assert.ThrowsAsync<ModelIntegrityException>(() => _registry.PublishAsync(other, new ModelVersionId("denoiser", "1"), promote: true));
        var missing = await Assert.ThrowsAsync<ModelIntegrityException>(() => _registry.OpenAsync(new ModelVersionId("denoiser", "7")));
        Assert.Contains("denoiser/7 is not in the registry", missing.Message);
        Assert.Equal("denoiser/1", (await _registry.TryGetCurrentAsync("denoiser")).ToString());
    }

    [Theory]
    [InlineData("denoiser")]
    [InlineData("a/b/c")]
    [InlineData("/1")]
    [InlineData("a/..")]
    public void A_malformed_model_version_is_refused(string value) =>
        Assert.Throws<FormatException>(() => ModelVersionId.Parse(value));

    [Fact]
    public async Task The_cache_sweep_deletes_versions_unused_for_their_lifetime_and_an_open_keeps_a_version()
    {
        // Requirement: the model cache keeps what jobs use and loses what none opened for ModelCache; a deleted version is fetched again.
        var current = await _registry.EnsureCurrentAsync("denoiser", DenoisingModel.DefaultFolder);
        await _registry.OpenAsync(current);
        var cached = Path.Combine(_root, "cache-a", "denoiser", "1");
        var month = TimeSpan.FromDays(30);

        Assert.Equal(0, await _registry.DeleteUnusedCachedVersionsAsync(month, DateTimeOffset.UtcNow));
        Directory.SetLastWriteTimeUtc(cached, DateTime.UtcNow - TimeSpan.FromDays(40));
        await _registry.OpenAsync(current); // opened again: in use
        Assert.Equal(0, await _registry.DeleteUnusedCachedVersionsAsync(month, DateTimeOffset.UtcNow));
        Directory.SetLastWriteTimeUtc(cached, DateTime.UtcNow - TimeSpan.FromDays(40));
        Assert.Equal(1, await _registry.DeleteUnusedCachedVersionsAsync(month, DateTimeOffset.UtcNow));

        Assert.False(Directory.Exists(cached));
        Assert.NotNull(await _registry.OpenAsync(current));
    }
}
