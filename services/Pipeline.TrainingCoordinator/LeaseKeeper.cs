using Microsoft.Extensions.Options;
using Pipeline.Registry;

namespace Pipeline.TrainingCoordinator;

/// <summary>
/// Takes, renews and gives back the training lease (<see cref="TrainingLease"/>, one object in the models bucket), so one
/// run trains at a time across any number of coordinators. The store has no conditional write: a taker writes its lease,
/// waits <see cref="CoordinatorOptions.LeaseSettle"/> and reads it back; of two takers the later write wins and the other
/// sees it and backs off. Inside one process a lock makes taking the lease a critical section.
/// </summary>
internal sealed class LeaseKeeper(ModelRegistry registry, IOptions<CoordinatorOptions> options, TimeProvider clock)
{
    private readonly SemaphoreSlim _taking = new(1, 1);

    /// <summary>This process, as the lease names its holder.</summary>
    public string Holder { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";

    private CoordinatorOptions Options => options.Value;

    public Task<TrainingLease?> ReadAsync(string model, CancellationToken ct) => registry.ReadTrainingLeaseAsync(model, ct);

    /// <summary>
    /// Takes the lease for <paramref name="runId"/> unless another holder's lease is still valid; <paramref name="orphanOf"/>
    /// (a run id) takes only an expired lease of that run (a killed coordinator's). Returns the lease held, or the one
    /// that stood in the way (with <c>Taken</c> false).
    /// </summary>
    public async Task<(bool Taken, TrainingLease? Lease)> TryTakeAsync(string model, string runId, bool orphanOnly, CancellationToken ct)
    {
        await _taking.WaitAsync(ct);
        try
        {
            var now = clock.GetUtcNow();
            var existing = await registry.ReadTrainingLeaseAsync(model, ct);
            if (existing is not null && !existing.IsExpired(now)) return (false, existing);
            if (orphanOnly && existing?.RunId != runId) return (false, existing);
            var mine = new TrainingLease(Holder, runId, now + Options.LeaseDuration, existing?.RunId == runId ? existing.Step : 0,
                existing?.RunId == runId ? existing.TotalSteps : 0);
            await registry.WriteTrainingLeaseAsync(model, mine, ct);
            await Task.Delay(Options.LeaseSettle, clock, ct);
            var read = await registry.ReadTrainingLeaseAsync(model, ct);
            return read is not null && read.Holder == Holder && read.RunId == runId ? (true, read) : (false, read);
        }
        finally
        {
            _taking.Release();
        }
    }

    /// <summary>Extends our lease with the run's progress; false when another holder has it now (the run must stop).</summary>
    public async Task<bool> RenewAsync(string model, TrainingLease progress, CancellationToken ct)
    {
        var read = await registry.ReadTrainingLeaseAsync(model, ct);
        if (read is null || read.Holder != Holder || read.RunId != progress.RunId) return false;
        await registry.WriteTrainingLeaseAsync(model, progress with { Holder = Holder, ExpiresAt = clock.GetUtcNow() + Options.LeaseDuration }, ct);
        return true;
    }

    /// <summary>Gives the lease back at the end of a run (when it is still ours).</summary>
    public async Task ReleaseAsync(string model, string runId, CancellationToken ct)
    {
        var read = await registry.ReadTrainingLeaseAsync(model, ct);
        if (read is not null && read.Holder == Holder && read.RunId == runId) await registry.DeleteTrainingLeaseAsync(model, ct);
    }

    /// <summary>
    /// On shutdown mid-run: the lease stays (it names the run to resume) but expires now, so another coordinator, or this one
    /// restarted, takes the run over from its checkpoint at once.
    /// </summary>
    public async Task ExpireAsync(string model, string runId, CancellationToken ct)
    {
        var read = await registry.ReadTrainingLeaseAsync(model, ct);
        if (read is not null && read.Holder == Holder && read.RunId == runId)
            await registry.WriteTrainingLeaseAsync(model, read with { ExpiresAt = clock.GetUtcNow() }, ct);
    }
}
