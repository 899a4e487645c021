using System.Text.Json;
using Pipeline.Denoising.Models;
using Pipeline.Registry;
using Pipeline.Storage;
using Pipeline.Storage.Local;

namespace Pipeline.Cli.Tests;

/// <summary>`pipeline model list|show|promote|rollback|runs` over the registry of an embedded run's OUT_DIR.</summary>
public sealed class ModelRegistryCommandTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly string _output;
    private readonly LocalFolderObjectStore _store;

    public ModelRegistryCommandTests()
    {
        _output = Path.Combine(_dir.Path, "pipeline-out");
        _store = new LocalFolderObjectStore(new LocalFolderStorageOptions { Root = Path.Combine(_output, ".pipeline") });
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>The registry `pipeline run --out` leaves: denoiser/1 current; plus denoiser/2 (another manifest) and one run's decision.</summary>
    private async Task SeedAsync()
    {
        var registry = new ModelRegistry(_store, new ModelRegistryOptions { CacheFolder = Path.Combine(_dir.Path, "cache") });
        await registry.PublishAsync(DenoisingModel.DefaultFolder, new ModelVersionId("denoiser", "1"), promote: true);
        var other = Path.Combine(_dir.Path, "model-2");
        Directory.CreateDirectory(other);
        foreach (var file in Directory.GetFiles(DenoisingModel.DefaultFolder))
            File.Copy(file, Path.Combine(other, Path.GetFileName(file)));
        var manifest = Path.Combine(other, ModelFolder.ManifestFile);
        await File.WriteAllTextAsync(manifest, (await File.ReadAllTextAsync(manifest)).Replace("\"version\": \"", "\"version\": \"2-", StringComparison.Ordinal));
        await registry.PublishAsync(other, new ModelVersionId("denoiser", "2"), promote: false);
        await registry.WriteDecisionAsync("denoiser", new DecisionRecord("night-1", "schedule", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddHours(1),
            [], new TrainingBudget(300, null), 300, "denoiser/2", "denoiser/1", null, null, null, false, "rejected on 1 of 4 cases: ..."));
    }

    private static (int ExitCode, JsonElement Json) Json(params string[] args)
    {
        var (exit, stdout, stderr) = PipelineCli.Run([.. args, "--json"]);
        Assert.True(exit == 0, $"pipeline {string.Join(' ', args)}: {stdout}{stderr}");
        return (exit, JsonDocument.Parse(stdout).RootElement);
    }

    private Dictionary<string, string> States() =>
        Json("model", "list", "--out", _output).Json.EnumerateArray().ToDictionary(v => v.GetProperty("version").GetString()!, v => v.GetProperty("state").GetString()!);

    [Fact]
    public async Task Promote_and_rollback_move_the_current_version_and_list_show_and_runs_report_states_lineage_and_decisions()
    {
        // Requirement: an operator sees each version's state, its lineage and the runs that decided on it, promotes a version
        // and rolls back; rollback with nothing before the current version is refused in one line.
        await SeedAsync();
        Assert.Equal(new() { ["denoiser/1"] = "current", ["denoiser/2"] = "candidate" }, States());
        var run = Assert.Single(Json("model", "runs", "--out", _output).Json.EnumerateArray().ToList());
        Assert.Equal(("night-1", false), (run.GetProperty("runId").GetString(), run.GetProperty("promoted").GetBoolean()));
        var shown = Json("model", "show", "2", "--out", _output).Json;
        Assert.Equal("night-1", shown.GetProperty("decisions")[0].GetProperty("runId").GetString());
        Assert.True(shown.GetProperty("manifest").GetProperty("training").GetProperty("data").GetArrayLength() > 0);

        Assert.True(Json("model", "promote", "denoiser/2", "--out", _output).Json.GetProperty("moved").GetBoolean());
        Assert.Equal(new() { ["denoiser/1"] = "previous", ["denoiser/2"] = "current" }, States());

        var rollback = PipelineCli.Run("model", "rollback", "--out", _output, "--reason", "live noise estimate regressed");
        Assert.True(rollback.ExitCode == 0, rollback.Stdout + rollback.Stderr);
        Assert.Contains("denoiser/1 is current again; denoiser/2 is marked rejected", rollback.Stdout, StringComparison.Ordinal);
        Assert.Equal(new() { ["denoiser/1"] = "current", ["denoiser/2"] = "rejected" }, States());
        Assert.Contains("rolled back: live noise estimate regressed", PipelineCli.Run("model", "show", "2", "--out", _output).Stdout, StringComparison.Ordinal);

        var again = PipelineCli.Run("model", "rollback", "--out", _output);
        Assert.Equal(1, again.ExitCode);
        Assert.Equal("denoiser/1 is the first version made current: nothing to roll back to", again.Stderr.Trim());
    }

    [Fact]
    public async Task An_unknown_or_tampered_version_or_a_missing_folder_gets_one_line_and_a_non_zero_exit_and_nothing_changes()
    {
        // Requirement: bad input is refused in one clear line with a non-zero exit; the registry does not change.
        await SeedAsync();
        var key = ModelRegistryLayout.FileKey("denoiser", "2", ModelFolder.WeightsFile);
        var weights = await _store.GetBytesAsync("models", key);
        weights[weights.Length / 2] ^= 0x5A;
        await _store.PutBytesAsync("models", key, weights);
        var pointer = await _store.GetBytesAsync("models", ModelRegistryLayout.CurrentKey("denoiser"));

        foreach (var (args, expected) in new (string[], string)[]
        {
            (["model", "promote", "2", "--out", _output], "SHA-256"),
            (["model", "promote", "denoiser/9", "--out", _output], "denoiser/9 is not in the registry"),
            (["model", "show", "9", "--out", _output], "denoiser/9 is not in the registry"),
            (["model", "promote", "a/b/c", "--out", _output], "is not a model version"),
            (["model", "list", "--out", Path.Combine(_dir.Path, "nowhere")], "no such folder"),
        })
        {
            var (exit, stdout, stderr) = PipelineCli.Run(args);
            Assert.True(exit == 1, $"{string.Join(' ', args)}: exit {exit}: {stdout}{stderr}");
            Assert.Contains(expected, stderr, StringComparison.Ordinal);
            Assert.Single(stderr.Trim().Split('\n'));
        }
        Assert.Equal(pointer, await _store.GetBytesAsync("models", ModelRegistryLayout.CurrentKey("denoiser")));
        Assert.Equal(new() { ["denoiser/1"] = "current", ["denoiser/2"] = "candidate" }, States());
    }
}
