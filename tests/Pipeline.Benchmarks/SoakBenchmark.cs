using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Pipeline.Contracts;
using Pipeline.Dicom;
using Pipeline.Hosting;
using Pipeline.Storage;
using Pipeline.Storage.S3;
using Pipeline.Testing;

namespace Pipeline.Benchmarks;

/// <summary>
/// Soak: many small series through the distributed pipeline as deployed (ingest, evaluation and two denoise workers as
/// their own processes) on the real RabbitMQ and S3 server of `infra/test-servers/start.sh`, dropped at a steady rate.
/// Prints throughput, drop-to-marker latency percentiles (drop = the series' last upload, marker = its CompletedAt),
/// peak RSS of each service and its RSS slope over the second half of the run (growth per 100 series: flat memory is
/// ~0), and the series lost (no marker by the deadline: must be 0), failure records and evaluation reports.
/// `soak [--series 500] [--slices 2] [--rate 2] [--deadline-minutes 30] [--settings .test-servers/settings.json]`
/// (rate in series per second; one warm-up series first).
/// </summary>
public sealed class SoakBenchmark : IBenchmark
{
    internal const string ModelVersion = "denoiser/1";

    public string Name => "soak";

    public string Description => "500 small series through ingest, evaluation and 2 workers as processes: latency percentiles, RSS per service and its slope, lost series";

    public async Task<int> RunAsync(string[] args)
    {
        var count = Arguments.Int(args, "series", 500);
        var slices = Arguments.Int(args, "slices", 2);
        var rate = Arguments.Double(args, "rate", 2);
        var deadline = TimeSpan.FromMinutes(Arguments.Int(args, "deadline-minutes", 30));
        if (await ServerSettings.LoadAsync(args) is not { } servers) return 1;
        var id = Guid.NewGuid().ToString("N")[..8];
        var settings = Settings(servers, id);
        var store = servers.Store();
        var (input, output) = (settings["Ingest:InputBucket"]!, settings["Storage:OutputBucket"]!);
        await store.EnsureBucketAsync(input);

        var series = MakeSeries(count + 1, slices); // [0] warms up
        Console.WriteLine(F($"{count} series x {slices} slices, dropped at {rate} series/s; ingest, evaluation and 2 workers (1 engine thread, 1 job each) as processes; load average {PyTorchComparisonBenchmark.LoadAverage()}"));
        List<ServiceProcess> processes = [];
        using var sampling = new CancellationTokenSource();
        try
        {
            foreach (var (slot, project) in new[] { ("ingest", "Pipeline.Ingest"), ("evaluation", "Pipeline.Evaluation"), ("worker-1", "Pipeline.DenoiseWorker"), ("worker-2", "Pipeline.DenoiseWorker") })
                processes.Add(ServiceProcess.Start(slot, project, new Dictionary<string, string?>(settings) { ["ModelRegistry:CacheFolder"] = Path.Combine(Path.GetTempPath(), $"soak-{id}-{slot}") }));
            await Task.WhenAll(processes.Select(p => p.WaitReadyAsync(TimeSpan.FromMinutes(2))));

            await DropAsync(store, input, series[0]);
            await WaitForMarkersAsync(store, output, series.Take(1).ToList(), TimeSpan.FromMinutes(5));

            var started = Stopwatch.StartNew();
            var samples = new List<(double Seconds, long[] RssKb)>();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    var rss = processes.Select(p => RssKb(p.Id)).ToArray();
                    lock (samples) samples.Add((started.Elapsed.TotalSeconds, rss));
                    try { await Task.Delay(1000, sampling.Token); } catch (OperationCanceledException) { }
                }
            });
            var dropped = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            for (var s = 1; s <= count; s++)
            {
                var due = TimeSpan.FromSeconds((s - 1) / rate);
                if (started.Elapsed < due) await Task.Delay(due - started.Elapsed);
                await DropAsync(store, input, series[s]);
                dropped[series[s].SeriesInstanceUid] = DateTimeOffset.UtcNow;
            }
            var droppedIn = started.Elapsed.TotalSeconds;
            var markers = await WaitForMarkersAsync(store, output, series.Skip(1).ToList(), deadline);
            await sampling.CancelAsync();
            await sampler;

            var wall = markers.Count > 0 ? (markers.Values.Max(m => m.CompletedAt) - dropped.Values.Min()).TotalSeconds : double.NaN;
            var latencies = markers.Select(m => (m.Value.CompletedAt - dropped[m.Key]).TotalSeconds).Order().ToList();
            var lost = count - markers.Count;
            var (failures, reports) = await CountOutputsAsync(store, output);
            for (var wait = Stopwatch.StartNew(); reports < markers.Count && wait.Elapsed < TimeSpan.FromMinutes(2); await Task.Delay(2000))
                (failures, reports) = await CountOutputsAsync(store, output); // evaluation follows the markers
            Console.WriteLine(F($"done: {markers.Count} of {count} series ({markers.Count * slices} slices) in {wall:F1} s from first drop to last marker: {markers.Count / wall:F2} series/s, {markers.Count * slices / wall:F1} slices/s (drops took {droppedIn:F1} s)"));
            Console.WriteLine(F($"drop -> marker latency: p50 {Percentile(latencies, 0.50):F1} s, p95 {Percentile(latencies, 0.95):F1} s, p99 {Percentile(latencies, 0.99):F1} s, max {(latencies.Count > 0 ? latencies[^1] : double.NaN):F1} s"));
            Console.WriteLine(F($"lost (no marker after {deadline.TotalMinutes:F0} min): {lost}; failure records: {failures}; evaluation reports: {reports}"));
            var half = samples.Where(x => x.Seconds >= wall / 2 && x.Seconds <= wall).ToList();
            var seriesPerSecond = markers.Count / wall;
            for (var p = 0; p < processes.Count; p++)
            {
                var peak = samples.Max(x => x.RssKb[p]) / 1024.0;
                var slope = Slope(half.Select(x => (x.Seconds, x.RssKb[p] / 1024.0)).ToList()); // MB per second
                Console.WriteLine(F($"{processes[p].Name,-11} peak RSS {peak,6:F0} MB; RSS slope over the second half {slope / seriesPerSecond * 100,6:F2} MB per 100 series ({half.Count} samples)"));
            }
            Console.WriteLine(F($"load average after: {PyTorchComparisonBenchmark.LoadAverage()}"));
            return lost == 0 ? 0 : 1;
        }
        finally
        {
            await sampling.CancelAsync();
            foreach (var process in processes)
            {
                try { await process.StopAsync(TimeSpan.FromSeconds(30)); } catch (TimeoutException) { }
                await process.DisposeAsync();
            }
        }
    }

    internal static Dictionary<string, string?> Settings(ServerSettings servers, string id) => new()
    {
        ["Bus:Transport"] = "RabbitMq",
        ["Bus:RabbitMq:Host"] = servers.RabbitMq.Host,
        ["Bus:RabbitMq:Port"] = servers.RabbitMq.Port.ToString(CultureInfo.InvariantCulture),
        ["Bus:RabbitMq:VirtualHost"] = servers.RabbitMq.VirtualHost,
        ["Bus:RabbitMq:Username"] = servers.RabbitMq.Username,
        ["Bus:RabbitMq:Password"] = servers.RabbitMq.Password,
        ["Bus:PrefetchCount"] = "1",
        ["Storage:Kind"] = "S3",
        ["Storage:S3:Endpoint"] = servers.Storage.S3.Endpoint,
        ["Storage:S3:AccessKey"] = servers.Storage.S3.AccessKey,
        ["Storage:S3:SecretKey"] = servers.Storage.S3.SecretKey,
        ["Storage:S3:Region"] = servers.Storage.S3.Region,
        ["Storage:OutputBucket"] = $"soak-out-{id}",
        ["Ingest:InputBucket"] = $"soak-in-{id}",
        ["Ingest:ReconcileInterval"] = "00:00:02", // s3rver sends no bucket events: ingest finds drops by listing
        ["Ingest:QuietPeriod"] = "00:00:04",
        ["DenoiseWorker:Engine:Device"] = "Cpu",
        ["DenoiseWorker:Engine:Threads"] = "1",
        ["DenoiseWorker:ConcurrentJobs"] = "1",
        ["ModelRegistry:Bucket"] = $"soak-models-{id}",
    };

    /// <summary>Series of the noisy sample's slices, each with Study, Series and SOP Instance UIDs of its own (seeded).</summary>
    internal static List<SoakSeries> MakeSeries(int count, int slices)
    {
        var random = new Random(500);
        string Uid() => "2.25." + new UInt128((ulong)random.NextInt64(), (ulong)random.NextInt64()).ToString(CultureInfo.InvariantCulture);
        var sample = Directory.GetFiles(Path.Combine(SampleData.SampleStudy, "t1-noisy")).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList();
        return Enumerable.Range(0, count).Select(s =>
        {
            var (study, uid) = (Uid(), Uid());
            var files = Enumerable.Range(0, slices).Select(i =>
            {
                var file = DicomFile.Open(sample[(s * slices + i) % sample.Count]);
                file.Dataset.SetString(DicomTags.StudyInstanceUID, study).SetString(DicomTags.SeriesInstanceUID, uid).SetString(DicomTags.SOPInstanceUID, Uid());
                using var bytes = new MemoryStream();
                file.Save(bytes);
                return bytes.ToArray();
            }).ToList();
            return new SoakSeries(study, uid, $"soak/s{s:D4}/", files);
        }).ToList();
    }

    internal static async Task DropAsync(IObjectStore store, string bucket, SoakSeries series)
    {
        for (var i = 0; i < series.Files.Count; i++)
            await store.PutBytesAsync(bucket, $"{series.Prefix}{i:D3}.dcm", series.Files[i]);
    }

    /// <summary>Polls until every series has its marker or the deadline passes; the markers found, by series UID.</summary>
    internal static async Task<Dictionary<string, SeriesCompletion>> WaitForMarkersAsync(IObjectStore store, string output, IReadOnlyList<SoakSeries> series, TimeSpan deadline)
    {
        var found = new Dictionary<string, SeriesCompletion>(StringComparer.Ordinal);
        var until = Stopwatch.StartNew();
        while (found.Count < series.Count && until.Elapsed < deadline)
        {
            foreach (var one in series.Where(s => !found.ContainsKey(s.SeriesInstanceUid)))
            {
                var marker = await store.ReadMarkerAsync(CompletionMarkers.Of(output, one.StudyInstanceUid, one.SeriesInstanceUid, ModelVersion), default);
                if (marker.Marker is { } m) found[one.SeriesInstanceUid] = m;
            }
            if (found.Count < series.Count) await Task.Delay(2000);
        }
        return found;
    }

    /// <summary>Failure records and evaluation reports in the output bucket.</summary>
    private static async Task<(int Failures, int Reports)> CountOutputsAsync(IObjectStore store, string output)
    {
        var (failures, reports) = (0, 0);
        await foreach (var listed in store.ListAsync(output))
        {
            if (BucketLayout.IsFailureRecord(listed.Key)) failures++;
            if (listed.Key.EndsWith("/report.json", StringComparison.Ordinal)) reports++;
        }
        return (failures, reports);
    }

    /// <summary>Resident set of a process (VmRSS of /proc/PID/status), 0 when it is gone.</summary>
    private static long RssKb(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>Least-squares slope of y over x.</summary>
    private static double Slope(IReadOnlyList<(double X, double Y)> points)
    {
        if (points.Count < 2) return double.NaN;
        var (mx, my) = (points.Average(p => p.X), points.Average(p => p.Y));
        return points.Sum(p => (p.X - mx) * (p.Y - my)) / points.Sum(p => (p.X - mx) * (p.X - mx));
    }

    private static double Percentile(IReadOnlyList<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    internal sealed record SoakSeries(string StudyInstanceUid, string SeriesInstanceUid, string Prefix, IReadOnlyList<byte[]> Files);
}
