namespace Pipeline.Contracts;

/// <summary>
/// Meters and instruments that something other than the emitting service reads (dashboards, alerts, the tool's progress
/// display): part of the contract like the messages, so a rename is a new name, never an edit.
/// </summary>
public static class PipelineMetrics
{
    /// <summary>The denoise worker's meter.</summary>
    public const string DenoiseWorkerMeter = "Pipeline.DenoiseWorker";

    /// <summary>Counter of slices denoised (label: modality).</summary>
    public const string SlicesDenoised = "pipeline.denoise.slices";
}
