using System.Text.Json;
using Pipeline.Contracts;
using Pipeline.Denoising.Models;
using Pipeline.Registry;
using Pipeline.Storage;
using Xunit.Abstractions;
using static Pipeline.IntegrationTests.Pipeline.Faults.FaultServers;

namespace Pipeline.IntegrationTests.Pipeline.Faults;

/// <summary>
/// A tampered model version announced to running workers (processes): weights changed under an unchanged manifest, or
/// weights changed with the manifest rewritten to match them. Every worker refuses both (log), opens neither, and the
/// next series is still done with the version it had.
/// </summary>
[Collection(TestServersCollection.Name)]
public sealed class TamperedModelTests(TestServers servers, ITestOutputHelper output) : FaultTest(servers)
{
    private const int Slices = 3;
    [Fact]
    public async Task Requirement_every_worker_refuses_a_tampered_model_version_keeps_its_own_and_the_next_series_names_the_old_version()
    {
        var settings = Scope.Settings();
        List<ServiceProcess> processes = [];
        try
        {
            processes = await StartAsync(("ingest", "Pipeline.Ingest", settings),
                ("worker-1", "Pipeline.DenoiseWorker", Worker(Scope, settings, "worker-1")), ("worker-2", "Pipeline.DenoiseWorker", Worker(Scope, settings, "worker-2")));
            var workers = processes.Where(p => p.Name.StartsWith("worker", StringComparison.Ordinal)).ToList();
            await using var observer = await RecorderBus.StartAsync(Scope);
            await Scope.DropAsync("drop/tampered/t1/", PipelineScope.SampleSeries("t1", Slices));
            var current = ModelVersionId.Parse((await observer.Recorder.WaitForAsync<SeriesDenoised>(1, Patience))[0].ModelVersion);

            // The genuine files of the current version, and its weights with one byte changed.
            async Task<byte[]> File(string name) => await Scope.Store.GetBytesAsync(Scope.ModelsBucket, ModelRegistryLayout.FileKey(current.Name, current.Version, name));
            var manifestBytes = await File(ModelFolder.ManifestFile);
            var manifest = JsonSerializer.Deserialize<ModelManifest>(manifestBytes, ModelManifest.Json)!;
            var onnx = await File(ModelFolder.OnnxFile);
            var weights = await File(ModelFolder.WeightsFile);
            weights[weights.Length / 2] ^= 0x40;
            var rewritten = JsonSerializer.SerializeToUtf8Bytes(manifest with
            {
                Files = manifest.Files with { Weights = manifest.Files.Weights with { Sha256 = ModelFolder.Sha256(weights) } },
            }, ModelManifest.Json);

            // Weights changed under the manifest; weights changed and the manifest rewritten to match (the announcement has the genuine hashes).
            var tampered = new[] { (Version: "tampered-weights", Manifest: manifestBytes), (Version: "tampered-manifest", Manifest: rewritten) };
            foreach (var (version, manifestFile) in tampered)
            {
                async Task Put(string name, byte[] bytes) =>
                    await Scope.Store.PutBytesAsync(Scope.ModelsBucket, ModelRegistryLayout.FileKey(current.Name, version, name), bytes);
                await Put(ModelFolder.OnnxFile, onnx);
                await Put(ModelFolder.WeightsFile, weights);
                await Put(ModelFolder.ManifestFile, manifestFile);
                await observer.Bus.Publish(new ModelVersionPublished(new ModelVersionId(current.Name, version).ToString(),
                    new ObjectRef(Scope.ModelsBucket, ModelRegistryLayout.FileKey(current.Name, version, ModelFolder.ManifestFile)),
                    manifest.Files.Onnx.Sha256, manifest.Files.Weights.Sha256));
            }

            // Every worker reports the refusal of each.
            foreach (var (version, _) in tampered)
                foreach (var worker in workers)
                    await WaitForLineAsync(worker, $"{current.Name}/{version} refused", Patience);

            // Neither is opened; the next series is done with the version the workers had.
            await Scope.DropAsync("drop/tampered/t1-noisy/", PipelineScope.SampleSeries("t1-noisy", Slices));
            var done = await observer.Recorder.WaitForAsync<SeriesDenoised>(2, Patience);
            Assert.All(done, d => Assert.Equal(current.ToString(), d.ModelVersion));
            var marker = JsonSerializer.Deserialize<SeriesCompletion>(await Scope.Store.GetBytesAsync(Scope.OutputBucket, done[1].CompletionMarker.Key))!;
            Assert.Equal(current.ToString(), marker.ModelVersion);
            foreach (var worker in workers)
            {
                Assert.False(worker.HasExited, $"{worker.Name} exited");
                foreach (var (version, _) in tampered)
                    Assert.DoesNotContain(worker.Lines, l => l.Contains($"Model version {current.Name}/{version} loaded", StringComparison.Ordinal));
            }
        }
        finally
        {
            await DisposeAllAsync(output, processes);
        }
    }
}
