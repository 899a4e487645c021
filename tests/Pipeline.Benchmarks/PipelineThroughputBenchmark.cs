using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using System.Security.Cryptography;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Contracts;
using Pipeline.DenoiseWorker;
using Pipeline.Denoising.Inference;
using Pipeline.Denoising.Models;
using Pipeline.Dicom;
using Pipeline.Hosting;
using Pipeline.Imaging;
using Pipeline.Imaging.Dicom;
using Pipeline.Imaging.Nifti;
using Pipeline.Imaging.Noise;
using Pipeline.Imaging.Samples;
using Pipeline.Ingest;
using Pipeline.Ingest.Notifications;
using Pipeline.Storage;
using RabbitMQ.Client;

namespace Pipeline.Benchmarks;

/// <summary>
/// End-to-end slices/s of ingest + one denoise worker (the services' own registrations) through the real RabbitMQ and
/// S3 server of `infra/test-servers/start.sh`, from the start of a drop to the last completion marker, against the bare
/// inference of the same model on the same slices in the same run (measured before and after, averaged), and where the
/// pipeline's wall time went (engine busy and idle, worker steps, CPU seconds of each process):
/// `pipeline [--series 12] [--slices 48] [--quick] [--threads 2] [--jobs 2] [--listing] [--settings .test-servers/settings.json]`.
/// The default backlog (576 slices) makes the fixed latency of a drop (listing, first fetch, last write) small
/// against the steady state; `--quick` (3 x 16) only checks that it runs. The uploader plays the store's bucket events
/// (see <see cref="StoreEvents"/>); `--listing` leaves ingest to find objects by listing the bucket every second;
/// `--jobs` sets the worker's ConcurrentJobs.
/// </summary>
public sealed class PipelineThroughputBenchmark : IBenchmark
{
    private const string Nifti = "/usr/share/mricron/templates/ch2.nii.gz";
    private const string ModelVersion = "denoiser/1";
    private const int FirstSlice = 20; // below it the volume is mostly background

    public string Name => "pipeline";

    public string Description => "drop-to-marker slices/s through RabbitMQ + S3 (one worker) vs bare inference on the same slices";

    public async Task<int> RunAsync(string[] args)
    {
        var quick = Arguments.Flag(args, "quick");
        var seriesCount = Arguments.Int(args, "series", quick ? 3 : 12);
        var slices = Arguments.Int(args, "slices", quick ? 16 : 48);
        var threads = Arguments.Int(args, "threads", 2);
        var listing = Arguments.Flag(args, "listing");
        var jobs = Arguments.Int(args, "jobs", new DenoiseWorkerOptions().ConcurrentJobs);
        var settingsPath = Arguments.Get(args, "settings") ?? Path.Combine(RepositoryRoot(), ".test-servers", "settings.json");
        if (!File.Exists(settingsPath))
        {
            Console.Error.WriteLine($"no test-server settings at {settingsPath}: start the servers with `bash infra/test-servers/start.sh`");
            return 1;
        }
        var servers = JsonSerializer.Deserialize<ServerSettings>(await File.ReadAllBytesAsync(settingsPath), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;

        var work = Directory.CreateTempSubdirectory("bench-pipeline-").FullName;
        try
        {
            // Noisy MR series from slabs of the Colin27 volume, taken in turn; each series has its own noise seed and
            // so its own UIDs (a backlog longer than the volume repeats slabs, never series). Plus a small warm-up series.
            var volume = NiftiReader.Read(Nifti).Volume;
            if (seriesCount < 1 || slices < 1 || FirstSlice + slices > volume.Depth)
            {
                Console.Error.WriteLine($"--slices must fit slices {FirstSlice}..{volume.Depth - 1} of the volume, --series at least 1");
                return 2;
            }
            var slabs = (volume.Depth - FirstSlice) / slices;
            var warmUp = WriteSeries(volume, 40, 4, seed: 40, Path.Combine(work, "warm-up"));
            var series = Enumerable.Range(0, seriesCount)
                .Select(s => WriteSeries(volume, FirstSlice + s % slabs * slices, slices, seed: 1000 + s, Path.Combine(work, $"s{s}"))).ToList();
            var total = seriesCount * slices;
            var (width, height) = (volume.Width, volume.Height);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{seriesCount} series x {slices} slices ({width}x{height}, rician 5%), bundled model, {threads} threads, one worker holding {jobs} jobs, {(listing ? "1 s listing" : "bucket events")}"));

            var (bare1, bareCpu1) = BareInference(warmUp, series, threads);
            var run = await PipelineAsync(servers, Path.GetDirectoryName(Path.GetFullPath(settingsPath))!, warmUp, series, threads, listing, jobs);
            var (bare2, bareCpu2) = BareInference(warmUp, series, threads);
            var bare = (bare1 + bare2) / 2;
            var bareCpu = (bareCpu1 + bareCpu2) / 2;

            string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
            Console.WriteLine(F($"bare inference     {total / bare1:F2} then {total / bare2:F2} slices/s (mean {total / bare:F2}: {bare:F1} s)"));
            Console.WriteLine(F($"pipeline (drop->marker) {total / run.Seconds:F2} slices/s ({run.Seconds:F1} s for {total} slices)"));
            Console.WriteLine(F($"ratio pipeline / bare inference: {bare / run.Seconds:F2} (goal >= 0.90)"));
            Console.WriteLine("where the pipeline's wall time went (s from the first upload):");
            Console.WriteLine(F($"  uploads done {run.UploadsDone:F1}, jobs published {run.FirstJob:F1} to {run.LastJob:F1}, engine first busy {run.Engine[0].Start:F1}, last idle {run.Engine[^1].End:F1}, last marker {run.Seconds:F1}"));
            var busy = run.Engine.Sum(e => e.End - e.Start);
            var gaps = run.Engine.Zip(run.Engine.Skip(1), (x, y) => Math.Max(0, y.Start - x.End)).Sum(); // measured apart: a hair of overlap is clock noise
            Console.WriteLine(F($"  engine busy {busy:F1} ({busy / run.Seconds:P0} of wall; bare needs {bare:F1}); idle {run.Engine[0].Start:F1} before the first job, {gaps:F1} between jobs, {run.Seconds - run.Engine[^1].End:F1} after the last"));
            Console.WriteLine("  engine s per job, in order: " + string.Join(" ", run.Engine.Select(e => F($"{e.End - e.Start:F2}"))) + F($" (bare: {bare / series.Count:F2} per series)"));
            Console.WriteLine("  worker steps summed over jobs: " + string.Join(", ", run.Steps.Select(s => F($"{s.Key} {s.Value:F1}"))));
            // CPU time per slice depends far less on what else runs on a shared machine than wall time does.
            var ms = 1000.0 / total;
            var own = run.Cpu.Process + run.Cpu.S3 + run.Cpu.Broker;
            Console.WriteLine(F($"CPU ms per slice: bare inference {bareCpu * ms:F0}; pipeline {own * ms:F0} = {own / bareCpu:F2}x (this process: uploads, ingest, worker {run.Cpu.Process * ms:F0}, s3rver {run.Cpu.S3 * ms:F0}, RabbitMQ {run.Cpu.Broker * ms:F0})"));
            Console.WriteLine(F($"  GC pauses in this process {run.GcPauses:F2} s ({run.Gen2Collections} gen2 collections)"));
            Console.WriteLine(F($"  CPU s (of {run.Cpu.Available:F0} on {Environment.ProcessorCount} cores): this process (uploads, ingest, worker) {run.Cpu.Process:F1}, s3rver {run.Cpu.S3:F1}, RabbitMQ {run.Cpu.Broker:F1}, rest of the machine {run.Cpu.Other:F1} (niced {run.Cpu.Niced:F1})"));
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static WrittenSeries WriteSeries(Volume volume, int first, int count, int seed, string folder)
    {
        var options = SampleSeriesOptions.ForSlab(Nifti, first, count);
        var noise = new RicianNoise(0.05);
        var stored = SampleSeries.ToStoredScale(volume.Slab(first, count), options.BitsStored);
        return SampleSeries.Write(SampleSeries.AddNoise(stored, noise, seed, options.BitsStored), folder, options, SampleSeries.NoisyKind(noise, seed), seriesNumber: 2);
    }

    /// <summary>Seconds (and CPU seconds of this process) the worker's engine settings take to denoise every series, slices decoded beforehand.</summary>
    private static (double Seconds, double Cpu) BareInference(WrittenSeries warmUp, IReadOnlyList<WrittenSeries> series, int threads)
    {
        var model = ModelFolder.Load(DenoisingModel.DefaultFolder);
        var defaults = new DenoiseWorkerOptions();
        var denoiser = DenoisingModel.OpenOnnx(model, new EngineOptions { Threads = threads, Device = DevicePreference.Cpu },
            new TilingOptions { BatchSize = defaults.BatchSize, TileSize = defaults.TileSize });
        try
        {
            static List<Image> Decode(WrittenSeries s) => s.Files.Select(f => DicomImages.ToImage(DicomFile.Open(f))).ToList();
            denoiser.Denoise(Decode(warmUp));
            var images = series.Select(Decode).ToList();
            var cpu = CpuSample.ProcessSeconds();
            var watch = Stopwatch.StartNew();
            foreach (var one in images) denoiser.Denoise(one);
            return (watch.Elapsed.TotalSeconds, CpuSample.ProcessSeconds() - cpu);
        }
        finally
        {
            (denoiser.Engine as IDisposable)?.Dispose();
        }
    }

    /// <summary>The engine's busy intervals, in seconds from the first upload.</summary>
    private sealed record Interval(double Start, double End);

    /// <summary>CPU seconds spent while the pipeline ran: by this process, by each server, by everything else.</summary>
    private sealed record CpuSeconds(double Available, double Process, double S3, double Broker, double Other, double Niced);

    private sealed record PipelineRun(double Seconds, double UploadsDone, double FirstJob, double LastJob, IReadOnlyList<Interval> Engine,
        SortedDictionary<string, double> Steps, CpuSeconds Cpu, double GcPauses, int Gen2Collections);

    /// <summary>
    /// Ingest and one worker in one host on the servers (fresh buckets, the broker's default virtual host). Each series
    /// is uploaded with a manifest naming its instances, so it completes at once (no quiet period). s3rver sends no bucket
    /// events: the uploader publishes each object's event to the broker as MinIO would, and ingest keeps its production
    /// listing interval; with <paramref name="listing"/> there are no events and ingest lists the bucket every second
    /// (every listing reads every object's metadata in s3rver). Times from the first upload to the last marker; the engine's
    /// busy intervals come from the worker's "denoise" step (meter Pipeline.DenoiseWorker), jobs published from ingest's
    /// "ingest.series-complete" spans.
    /// </summary>
    private static async Task<PipelineRun> PipelineAsync(ServerSettings servers, string serverState, WrittenSeries warmUp, IReadOnlyList<WrittenSeries> series, int threads, bool listing, int concurrentJobs)
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var (input, output) = ($"bench-in-{id}", $"bench-out-{id}");
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "Pipeline.Benchmarks" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Bus:Transport"] = "RabbitMq",
            ["Bus:RabbitMq:Host"] = servers.RabbitMq.Host,
            ["Bus:RabbitMq:Port"] = servers.RabbitMq.Port.ToString(CultureInfo.InvariantCulture),
            ["Bus:RabbitMq:VirtualHost"] = servers.RabbitMq.VirtualHost,
            ["Bus:RabbitMq:Username"] = servers.RabbitMq.Username,
            ["Bus:RabbitMq:Password"] = servers.RabbitMq.Password,
            ["Storage:Kind"] = "S3",
            ["Storage:S3:Endpoint"] = servers.Storage.S3.Endpoint,
            ["Storage:S3:AccessKey"] = servers.Storage.S3.AccessKey,
            ["Storage:S3:SecretKey"] = servers.Storage.S3.SecretKey,
            ["Storage:S3:Region"] = servers.Storage.S3.Region,
            ["Ingest:InputBucket"] = input,
            ["Ingest:OutputBucket"] = output,
            ["DenoiseWorker:OutputBucket"] = output,
            ["DenoiseWorker:Engine:Device"] = "Cpu",
            ["DenoiseWorker:Engine:Threads"] = threads.ToString(CultureInfo.InvariantCulture),
            ["ModelRegistry:Bucket"] = $"bench-models-{id}",
            ["ModelRegistry:CacheFolder"] = Path.Combine(Path.GetTempPath(), $"bench-models-{id}"),
        });
        if (listing) builder.Configuration["Ingest:ReconcileInterval"] = "00:00:01";
        builder.Configuration["DenoiseWorker:ConcurrentJobs"] = concurrentJobs.ToString(CultureInfo.InvariantCulture);
        builder.Logging.AddFilter(_ => false);
        builder.Services.Configure<MassTransitHostOptions>(bus => bus.WaitUntilStarted = true); // the event queue exists before the first drop
        builder.AddServiceDefaults(bus =>
        {
            bus.AddIngestConsumers();
            bus.AddDenoiseWorkerConsumers();
        });
        builder.AddObjectStore();
        builder.AddIngest();
        builder.AddDenoiseWorker();
        using var host = builder.Build();
        var store = (IObjectStore)host.Services.GetService(typeof(IObjectStore))!;
        await store.EnsureBucketAsync(input);
        await host.StartAsync();
        await using var events = listing ? null : await StoreEvents.ConnectAsync(servers.RabbitMq);
        try
        {
            // Warm-up: registry bootstrap, model fetch and session creation are not throughput.
            await DropAsync(store, events, input, "warm-up/", warmUp);
            await WaitForMarkersAsync(store, output, [warmUp]);

            var started = DateTimeOffset.UtcNow;
            double Since(DateTimeOffset t) => (t - started).TotalSeconds;
            var engine = new List<Interval>();
            var jobs = new List<double>();
            using var steps = new MeterListener
            {
                InstrumentPublished = (instrument, listener) =>
                {
                    if (instrument.Meter.Name == "Pipeline.DenoiseWorker" && instrument.Name is "pipeline.denoise.step_duration" or "pipeline.denoise.series")
                        listener.EnableMeasurementEvents(instrument);
                },
            };
            steps.SetMeasurementEventCallback<double>((_, seconds, tags, _) =>
            {
                foreach (var tag in tags)
                    if (tag is { Key: "step", Value: "denoise" })
                        lock (engine) engine.Add(new Interval(Since(DateTimeOffset.UtcNow) - seconds, Since(DateTimeOffset.UtcNow)));
            });
            // Series written (counted after the marker): polling the store for markers would load s3rver (~2.5 CPU ms a request).
            var remaining = series.Count;
            var allWritten = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            steps.SetMeasurementEventCallback<long>((_, _, _, _) =>
            {
                if (Interlocked.Decrement(ref remaining) == 0) allWritten.TrySetResult();
            });
            steps.Start();
            using var spans = new ActivityListener
            {
                ShouldListenTo = source => source.Name == "Pipeline.Ingest",
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
                ActivityStopped = activity =>
                {
                    if (activity.OperationName == "ingest.series-complete") lock (jobs) jobs.Add(Since(DateTimeOffset.UtcNow));
                },
            };
            ActivitySource.AddActivityListener(spans);
            var cpuBefore = CpuSample.Take(serverState);
            var (pausedBefore, gen2Before) = (GC.GetTotalPauseDuration(), GC.CollectionCount(2));

            for (var s = 0; s < series.Count; s++)
                await DropAsync(store, events, input, $"study/s{s}/", series[s]);
            var uploadsDone = Since(DateTimeOffset.UtcNow);
            await allWritten.Task.WaitAsync(TimeSpan.FromMinutes(30));
            var markers = await WaitForMarkersAsync(store, output, series);
            var cpu = CpuSample.Take(serverState).Minus(cpuBefore);
            var (paused, gen2) = ((GC.GetTotalPauseDuration() - pausedBefore).TotalSeconds, GC.CollectionCount(2) - gen2Before);
            var seconds = Since(markers.Max(m => m.CompletedAt));
            var totals = new SortedDictionary<string, double>(StringComparer.Ordinal);
            foreach (var (step, time) in markers.SelectMany(m => m.Timings))
                totals[step] = totals.GetValueOrDefault(step) + time;
            lock (engine) lock (jobs)
                return new PipelineRun(seconds, uploadsDone, jobs.Count > 0 ? jobs.Min() : double.NaN, jobs.Count > 0 ? jobs.Max() : double.NaN,
                    [.. engine.Where(e => e.Start >= 0).OrderBy(e => e.Start)], totals, cpu, paused, gen2);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private static async Task DropAsync(IObjectStore store, StoreEvents? events, string bucket, string prefix, WrittenSeries series)
    {
        async Task PutAsync(string key, byte[] bytes, CancellationToken ct)
        {
            await store.PutBytesAsync(bucket, key, bytes, cancellationToken: ct);
            if (events is not null) await events.ObjectCreatedAsync(new ObjectRef(bucket, key), bytes);
        }
        await Parallel.ForEachAsync(series.Files, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (file, ct) =>
            await PutAsync(prefix + Path.GetFileName(file), await File.ReadAllBytesAsync(file, ct), ct));
        var manifest = JsonSerializer.SerializeToUtf8Bytes(new { instances = series.Files.Select(Path.GetFileName) });
        await PutAsync(prefix + new IngestOptions().MarkerFileName, manifest, CancellationToken.None);
    }

    /// <summary>Plays MinIO's AMQP notification target: one S3 event per object written, to ingest's event exchange.</summary>
    private sealed class StoreEvents(IConnection connection, IChannel channel) : IAsyncDisposable
    {
        private readonly SemaphoreSlim _publishing = new(1, 1);
        private long _sequencer = 0x1700000000000000;

        public static async Task<StoreEvents> ConnectAsync(RabbitMqSettings rabbit)
        {
            var factory = new ConnectionFactory
            {
                HostName = rabbit.Host, Port = rabbit.Port, VirtualHost = rabbit.VirtualHost, UserName = rabbit.Username, Password = rabbit.Password,
            };
            var connection = await factory.CreateConnectionAsync();
            return new StoreEvents(connection, await connection.CreateChannelAsync());
        }

        /// <summary>The event of a single-part upload: its ETag is the hex MD5 of the bytes.</summary>
        public async Task ObjectCreatedAsync(ObjectRef created, byte[] bytes)
        {
            var body = new ObjectCreatedEvent(created, bytes.Length, Convert.ToHexStringLower(MD5.HashData(bytes)))
                .ToMinioJson(Interlocked.Increment(ref _sequencer).ToString("X16", CultureInfo.InvariantCulture));
            await _publishing.WaitAsync();
            try
            {
                await channel.BasicPublishAsync(BucketNotificationConsumer.EndpointName, "", mandatory: true,
                    new BasicProperties { ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent }, body);
            }
            finally
            {
                _publishing.Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await channel.CloseAsync();
            await connection.CloseAsync();
            channel.Dispose();
            connection.Dispose();
            _publishing.Dispose();
        }
    }

    private static async Task<List<SeriesCompletion>> WaitForMarkersAsync(IObjectStore store, string bucket, IReadOnlyList<WrittenSeries> series)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        var keys = series.Select(s => BucketLayout.CompletionMarker(s.StudyInstanceUid, s.SeriesInstanceUid, ModelVersion)).ToList();
        while (true)
        {
            var found = new List<SeriesCompletion>();
            foreach (var key in keys)
                if (await store.TryStatAsync(bucket, key) is not null)
                    found.Add(JsonSerializer.Deserialize<SeriesCompletion>(await store.GetBytesAsync(bucket, key))!);
            if (found.Count == keys.Count) return found;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{found.Count} of {keys.Count} markers after 10 minutes");
            await Task.Delay(100);
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }

    /// <summary>
    /// Cumulative CPU seconds from /proc: this process, the process groups of the test servers (their start script
    /// records each group id under the settings' folder) and the whole machine (busy, and the niced part of it).
    /// </summary>
    private sealed record CpuSample(double Process, double S3, double Broker, double Busy, double Niced, double Total)
    {
        private const double TicksPerSecond = 100; // USER_HZ

        public static CpuSample Take(string serverState)
        {
            var machine = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..9]
                .Select(v => double.Parse(v, CultureInfo.InvariantCulture) / TicksPerSecond).ToArray();
            double total = machine.Sum(), idle = machine[3] + machine[4];
            return new CpuSample(Group(null), Group(Path.Combine(serverState, "s3rver", "server.pgid")),
                Group(Path.Combine(serverState, "rabbitmq", "server.pgid")), total - idle, machine[1], total);
        }

        public static double ProcessSeconds() => Group(null);

        public CpuSeconds Minus(CpuSample before) => new(Total - before.Total, Process - before.Process, S3 - before.S3, Broker - before.Broker,
            Busy - before.Busy - (Process - before.Process) - (S3 - before.S3) - (Broker - before.Broker), Niced - before.Niced);

        /// <summary>user + system seconds of this process (null) or of every live process in the group whose id the file holds.</summary>
        private static double Group(string? pgidFile)
        {
            var pgid = pgidFile is null ? -1 : File.Exists(pgidFile) ? int.Parse(File.ReadAllText(pgidFile).Trim(), CultureInfo.InvariantCulture) : -2;
            if (pgid == -2) return double.NaN;
            double seconds = 0;
            foreach (var dir in pgid == -1 ? [$"/proc/{Environment.ProcessId}"] : Directory.EnumerateDirectories("/proc").Where(d => char.IsAsciiDigit(d[^1])))
            {
                string stat;
                try { stat = File.ReadAllText(Path.Combine(dir, "stat")); }
                catch (IOException) { continue; } // gone meanwhile
                // Fields after "(comm)": state ppid pgrp ... utime (12th) stime (13th).
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (pgid != -1 && fields[2] != pgid.ToString(CultureInfo.InvariantCulture)) continue;
                seconds += (double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
            }
            return seconds;
        }
    }

    /// <summary>The part of .test-servers/settings.json this benchmark needs.</summary>
    private sealed record ServerSettings(RabbitMqSettings RabbitMq, StorageSection Storage);

    private sealed record RabbitMqSettings(string Host, int Port, string VirtualHost, string Username, string Password);

    private sealed record StorageSection(S3Section S3);

    private sealed record S3Section(string Endpoint, string AccessKey, string SecretKey, string Region);
}
