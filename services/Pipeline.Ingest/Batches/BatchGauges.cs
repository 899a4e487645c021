using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Pipeline.Contracts;

namespace Pipeline.Ingest.Batches;

/// <summary>
/// Batch progress as metrics (meter "Pipeline.Ingest"), from the records the batch runner keeps current: slices expected
/// and done, the estimated finish, the deadline and whether the batch still runs, labelled by batch name. The name is
/// operator chosen but bounded (<see cref="BatchNames"/>: at most 64 letters, digits, '.', '_', '-'), and a batch is
/// reported only while it runs and for <see cref="FinishedKept"/> after, so the label set is the batches of about a day.
/// </summary>
internal sealed class BatchGauges
{
    /// <summary>How long a finished batch stays on the dashboard (the morning shift sees the night's batches at 100%).</summary>
    public static readonly TimeSpan FinishedKept = TimeSpan.FromHours(24);

    private readonly ConcurrentDictionary<string, BatchRecord> _batches = new(StringComparer.Ordinal);
    private readonly TimeProvider _clock;
    private readonly TimeSpan? _deadline;

    public BatchGauges(IMeterFactory meters, TimeProvider clock, TimeSpan? deadline)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _clock = clock;
        _deadline = deadline;
        var meter = meters.Create("Pipeline.Ingest");
        meter.CreateObservableGauge("pipeline.batch.slices", () => Observe(b => [(b.SlicesExpected, "expected"), (b.SlicesDone, "done")]), "{slice}",
            "Slices of a batch by state: expected (found under its prefix so far) and done");
        meter.CreateObservableGauge("pipeline.batch.eta", () => Observe(b => (b.Finished ?? b.Eta) is { } at ? [(at.ToUnixTimeSeconds(), null)] : []), "s",
            "Unix time the batch is expected to finish at its measured rate (when it finished, once it has)");
        meter.CreateObservableGauge("pipeline.batch.deadline", () => Observe(b => Deadline(b) is { } at ? [(at.ToUnixTimeSeconds(), null)] : []), "s",
            "Unix time the batch should be finished by: its start plus Ingest:BatchDeadline");
        meter.CreateObservableGauge("pipeline.batch.running", () => Observe(b => [(b.Finished is null ? 1 : 0, null)]), "{batch}",
            "1 while the batch runs, 0 once it finished");
    }

    /// <summary>When <paramref name="batch"/> should be finished by; null without a configured deadline.</summary>
    public DateTimeOffset? Deadline(BatchRecord batch) => batch.Started + _deadline;

    /// <summary>The batch's latest counts (a finished record starts its <see cref="FinishedKept"/>).</summary>
    public void Update(BatchRecord record) => _batches[record.Name] = record;

    private List<Measurement<long>> Observe(Func<BatchRecord, (long Value, string? State)[]> values)
    {
        var now = _clock.GetUtcNow();
        foreach (var (name, record) in _batches)
            if (now - record.Finished > FinishedKept)
                _batches.TryRemove(name, out _);
        return [.. _batches.Values.SelectMany(b => values(b).Select(v => v.State is null
            ? new Measurement<long>(v.Value, new KeyValuePair<string, object?>("batch", b.Name))
            : new Measurement<long>(v.Value, new("batch", b.Name), new("state", v.State))))];
    }
}
