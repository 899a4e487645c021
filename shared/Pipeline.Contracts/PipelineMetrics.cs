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

    /// <summary>
    /// Header of a denoise job (and its continuations): when ingest last saw a new instance of the series (ISO 8601), the
    /// start of the drop-to-marker latency the worker measures. A header, not a message field: it is telemetry, and a job
    /// without it (an old ingest, a job moved back by hand) is still a whole job.
    /// </summary>
    public const string SeriesSeenHeader = "Pipeline-Series-Seen";

    /// <summary>
    /// The "modality" label value for a Modality (0008,0060) read from an untrusted header: the value when it is one of
    /// the standard's defined terms (PS3.3 C.7.3.1.1.1), else "other", so a hostile or odd header cannot grow a
    /// metric's label set without bound.
    /// </summary>
    public static string ModalityLabel(string? modality) =>
        modality is not null && DefinedModalities.Contains(modality) ? modality : "other";

    private static readonly HashSet<string> DefinedModalities = new(StringComparer.Ordinal)
    {
        "AR", "ASMT", "AU", "BDUS", "BI", "BMD", "CFM", "CR", "CT", "CTPROTOCOL", "DMS", "DG", "DOC", "DX", "ECG", "EEG", "EMG", "EOG",
        "EPS", "ES", "FID", "GM", "HC", "HD", "IO", "IOL", "IVOCT", "IVUS", "KER", "KO", "LEN", "LS", "MG", "MR", "M3D", "NM", "OAM",
        "OCT", "OP", "OPM", "OPT", "OPTBSV", "OPTENF", "OPV", "OSS", "OT", "PA", "PLAN", "POS", "PR", "PT", "PX", "REG", "RESP", "RF",
        "RG", "RTDOSE", "RTIMAGE", "RTINTENT", "RTPLAN", "RTRAD", "RTRECORD", "RTSEGANN", "RTSTRUCT", "RWV", "SEG", "SM", "SMR", "SR",
        "SRF", "STAIN", "TEXTUREMAP", "TG", "US", "VA", "XA", "XAPROTOCOL", "XC",
    };
}
