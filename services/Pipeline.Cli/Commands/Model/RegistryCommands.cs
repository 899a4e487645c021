using System.ComponentModel;
using System.Globalization;
using Pipeline.Registry;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands.Model;

/// <summary>`pipeline model list`: every version with its state (current, previous, rejected, candidate).</summary>
internal sealed class ListCommand : RegistryCommand<RegistrySettings>
{
    protected override async Task<int> RunAsync(ModelRegistry registry, string model, RegistrySettings settings, CancellationToken ct)
    {
        var versions = await registry.ListVersionsAsync(model, ct);
        if (settings.Json)
            return PrintJson(versions.Select(v => new { Version = v.Id.ToString(), v.State, v.PublishedAt }));
        var table = new Table().AddColumns("version", "state", "published");
        foreach (var v in versions)
            table.AddRow(Markup.Escape(v.Id.ToString()), v.State.ToString().ToLowerInvariant(), v.PublishedAt.ToString("u", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"{versions.Count} versions of {model}");
        return 0;
    }
}

/// <summary>`pipeline model show VERSION`: manifest (architecture, training lineage), state, rejection and the runs that decided on it.</summary>
internal sealed class ShowCommand : RegistryCommand<VersionSettings>
{
    protected override async Task<int> RunAsync(ModelRegistry registry, string model, VersionSettings settings, CancellationToken ct)
    {
        var details = await registry.ShowAsync(Version(model, settings.Version), ct);
        if (settings.Json)
            return PrintJson(details);
        var m = details.Manifest;
        AnsiConsole.MarkupLineInterpolated($"[blue]{details.Id.ToString()}[/] {details.State.ToString().ToLowerInvariant()}: {m.Architecture.Name}, trained {m.Training.Mode} for {m.Training.Steps} steps, finished {m.Training.FinishedAt:u}");
        foreach (var d in m.Training.Data)
            AnsiConsole.MarkupLineInterpolated($"  data {d.Role}: {d.Source} slices {d.FirstSlice}-{d.LastSlice} (sha256 {d.Sha256[..Math.Min(12, d.Sha256.Length)]})");
        if (m.Validation is { } v)
            AnsiConsole.MarkupLineInterpolated($"  validation PSNR {v.Psnr:0.00} dB (noisy {v.NoisyPsnr:0.00}), SSIM {v.Ssim:0.0000}");
        if (details.Rejection is { } r)
            AnsiConsole.MarkupLineInterpolated($"  rejected {r.RejectedAt:u}: {r.Reason}");
        foreach (var d in details.Decisions)
            AnsiConsole.MarkupLineInterpolated($"  run {d.RunId}: {(d.Promoted ? "promoted" : "not promoted")}: {d.Reason}");
        return 0;
    }
}

/// <summary>`pipeline model promote VERSION`: verify the version in the store, then make it current.</summary>
internal sealed class PromoteCommand : RegistryCommand<PromoteCommand.Settings>
{
    internal sealed class Settings : VersionSettings
    {
        [CommandOption("--reason <TEXT>"), Description("Why (kept in the pointer's history)")]
        public string Reason { get; init; } = "promoted by an operator (pipeline model promote)";
    }

    protected override async Task<int> RunAsync(ModelRegistry registry, string model, Settings settings, CancellationToken ct)
    {
        var version = Version(model, settings.Version);
        var before = await registry.TryGetCurrentAsync(version.Name, ct);
        var moved = await registry.PromoteAsync(version, settings.Reason, ct);
        if (settings.Json)
            return PrintJson(new { Current = version.ToString(), Previous = before?.ToString(), Moved = moved });
        if (moved) AnsiConsole.MarkupLineInterpolated($"{version.ToString()} is current (was {before?.ToString() ?? "none"})");
        else AnsiConsole.MarkupLineInterpolated($"{version.ToString()} was already current");
        return 0;
    }
}

/// <summary>`pipeline model rollback`: back to the version the current one replaced; the current one is marked rejected.</summary>
internal sealed class RollbackCommand : RegistryCommand<RollbackCommand.Settings>
{
    internal sealed class Settings : RegistrySettings
    {
        [CommandOption("--reason <TEXT>"), Description("Why (kept in the rejection mark and the pointer)")]
        public string Reason { get; init; } = "rolled back by an operator (pipeline model rollback)";
    }

    protected override async Task<int> RunAsync(ModelRegistry registry, string model, Settings settings, CancellationToken ct)
    {
        var from = await registry.TryGetCurrentAsync(model, ct);
        var to = await registry.RollbackAsync(model, settings.Reason, ct);
        if (settings.Json)
            return PrintJson(new { Current = to.ToString(), RolledBack = from?.ToString() });
        AnsiConsole.MarkupLineInterpolated($"{to.ToString()} is current again; {from?.ToString()} is marked rejected");
        return 0;
    }
}

/// <summary>`pipeline model runs`: the training runs' decision records, oldest first.</summary>
internal sealed class RunsCommand : RegistryCommand<RegistrySettings>
{
    protected override async Task<int> RunAsync(ModelRegistry registry, string model, RegistrySettings settings, CancellationToken ct)
    {
        var runs = await registry.ListDecisionsAsync(model, ct);
        if (settings.Json)
            return PrintJson(runs);
        var table = new Table().AddColumns("run", "trigger", "started", "candidate", "steps", "promoted", "why");
        foreach (var r in runs)
            table.AddRow(Markup.Escape(r.RunId), Markup.Escape(r.Trigger), r.StartedAt.ToString("u", CultureInfo.InvariantCulture), Markup.Escape(r.Candidate ?? "-"),
                r.StepsDone.ToString(CultureInfo.InvariantCulture), r.Promoted ? "yes" : "no", Markup.Escape(r.Reason));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"{runs.Count} training runs of {model}");
        return 0;
    }
}
