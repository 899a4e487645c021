using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Pipeline.Ingest;

/// <summary>The ingest service's one ActivitySource and Meter ("Pipeline.Ingest") and its counters.</summary>
internal static class IngestTelemetry
{
    public static readonly ActivitySource Source = new("Pipeline.Ingest");
    private static readonly Meter Meter = new("Pipeline.Ingest");
    public static readonly Counter<long> InstancesRead = Meter.CreateCounter<long>("pipeline.ingest.instances", description: "Instances whose header was read");
    public static readonly Counter<long> Failures = Meter.CreateCounter<long>("pipeline.ingest.failures", description: "Objects recorded as failed at ingest");
    public static readonly Counter<long> Jobs = Meter.CreateCounter<long>("pipeline.ingest.jobs", description: "Denoise jobs published");
    public static readonly Counter<long> JobsRepublished = Meter.CreateCounter<long>("pipeline.ingest.jobs_republished", description: "Denoise jobs published again: no completion marker after Ingest:JobDeadline");
}
