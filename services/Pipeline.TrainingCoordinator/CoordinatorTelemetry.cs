using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Pipeline.TrainingCoordinator;

/// <summary>
/// The coordinator's spans (one tree per run: training.run > training.train, training.score, training.decide) and
/// metrics: the running run's progress (step, loss, steps/s, ETA) as gauges, and runs by outcome (promoted, rejected,
/// skipped, failed). Tags: outcome and trigger only, never patient data.
/// </summary>
internal static class CoordinatorTelemetry
{
    public const string Name = "Pipeline.TrainingCoordinator";

    public static readonly ActivitySource Source = new(Name);
    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> Runs = Meter.CreateCounter<long>(
        "pipeline.training.runs", description: "Training runs by outcome (promoted, rejected, skipped, failed) and trigger");

    private static Progress? _current;

    static CoordinatorTelemetry()
    {
        Meter.CreateObservableGauge("pipeline.training.step", () => Observe(p => p.Step), description: "Step of the running training run");
        Meter.CreateObservableGauge("pipeline.training.steps.total", () => Observe(p => p.Total), description: "Step budget of the running training run");
        Meter.CreateObservableGauge("pipeline.training.loss", () => Observe(p => p.Loss), description: "Training loss of the last step (normalised units)");
        Meter.CreateObservableGauge("pipeline.training.steps_per_second", () => Observe(p => p.StepsPerSecond), "{step}/s", "Training speed since the run (re)started");
        Meter.CreateObservableGauge("pipeline.training.eta", () => Observe(p => p.EtaSeconds), "s", "Estimated seconds left of the step budget");
    }

    /// <summary>The running run's progress, read by the gauges; null when no run trains.</summary>
    public sealed record Progress(int Step, int Total, double Loss, double StepsPerSecond, double EtaSeconds);

    public static void Report(Progress? progress) => Volatile.Write(ref _current, progress);

    public static void RunEnded(string outcome, string trigger) =>
        Runs.Add(1, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("trigger", trigger));

    private static IEnumerable<Measurement<double>> Observe(Func<Progress, double> value) =>
        Volatile.Read(ref _current) is { } p ? [new Measurement<double>(value(p))] : [];
}
