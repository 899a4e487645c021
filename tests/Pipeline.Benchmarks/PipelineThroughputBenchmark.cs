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
using Pipeline.Testing;
using RabbitMQ.Client;

namespace Pipeline.Benchmarks;

/// <summary>
/// End-to-end slices/s of ingest + one denoise worker (the services' own registrations) through the real RabbitMQ and
/// S3 server of `infra/test-servers/start.sh`, from the first upload of a drop to the last completion marker, against the
/// bare inference of the same model on the same slices in the same run (measured before and after, averaged), and where
/// the pipeline's wall time went (engine busy and idle, worker steps, CPU seconds of each process). Two placements:
/// co-located (ingest, uploader and worker in this process, sharing every core with the servers: one small machine) and
/// dedicated (the worker executable as its own process pinned to one core with a 1-thread engine, bare inference pinned
/// to the same core with the same threads, servers, ingest and uploader pinned to the other cores: a worker host).
/// `pipeline [--series 12] [--slices 48] [--quick] [--threads 2] [--jobs 2] [--listing] [--placement both|colocated|dedicated]
/// [--worker-core N] [--rounds 1] [--settings .test-servers/settings.json]`; `--rounds R` alternates R pipeline runs with
/// R + 1 bare passes and prints the median ratio.
/// The default backlog (576 slices) makes the fixed latency of a drop (first job, last write) small against the steady
/// state; `--quick` (3 x 16) only checks that it runs. The uploader plays the store's bucket events (see
/// <see cref="StoreEvents"/>); `--listing` leaves ingest to find objects by listing the bucket every second; `--jobs` sets
/// the worker's ConcurrentJobs; `--threads` the co-located engine's threads (the dedicated engine has one).
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
        var threads = Arguments.Int(args, "threads", 2);
        if (Arguments.Get(args, "bare-child") is { } plan) return BareChild(plan, threads, Arguments.Int(args, "core", 0));

        var quick = Arguments.Flag(args, "quick");
        var seriesCount = Arguments.Int(args, "series", quick ? 3 : 12);
        var slices = Arguments.Int(args, "slices", quick ? 16 : 48);
        var listing = Arguments.Flag(args, "listing");
        var jobs = Arguments.Int(args, "jobs", new DenoiseWorkerOptions().ConcurrentJobs);
        var placement = Arguments.Get(args, "placement", "both");
        var workerCore = Arguments.Int(args, "worker-core", Environment.ProcessorCount - 1);
        var rounds = Arguments.Int(args, "rounds", 1);
        if (rounds < 1)
        {
            Console.Error.WriteLine("--rounds is 1 or more");
            return 2;
        }
        if (placement is not ("both" or "colocated" or "dedicated"))
        {
            Console.Error.WriteLine("--placement is both, colocated or dedicated");
            return 2;
        }
        var dedicated = placement != "colocated";
        if (dedicated && (Environment.ProcessorCount < 2 || workerCore < 0 || workerCore >= Environment.ProcessorCount))
        {
            Console.Error.WriteLine($"the dedicated placement needs 2 cores or more and --worker-core in 0..{Environment.ProcessorCount - 1}");
            return 2;
        }
        var settingsPath = Arguments.Get(args, "settings") ?? Path.Combine(RepositoryRoot(), ".test-servers", "settings.json");
        if (!File.Exists(settingsPath))
        {
            Console.Error.WriteLine($"no test-server settings at {settingsPath}: start the servers with `bash infra/test-servers/start.sh`");
            return 1;
        }
        var servers = JsonSerializer.Deserialize<ServerSettings>(await File.ReadAllBytesAsync(settingsPath), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        var serverState = Path.GetDirectoryName(Path.GetFullPath(settingsPath))!;

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
            Console.WriteLine(F($"{seriesCount} series x {slices} slices ({volume.Width}x{volume.Height}, rician 5%), bundled model, one worker holding {jobs} jobs, {(listing ? "1 s listing" : "bucket events")}"));
            Console.WriteLine(F($"load average before: {LoadAverage()}"));
            // This process hosts ingest, whose service runs without tiered compilation (as the worker does); with it, its
            // JIT runs beside the worker's core during the drop. Set from the environment: this project's runtimeconfig
            // also serves the other benchmarks.
            if (Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") != "0")
                Console.WriteLine("tiered compilation is on in this process (uploader + ingest) and the bare-inference child: run with DOTNET_TieredCompilation=0 as the services do");

            if (placement != "dedicated")
            {
                Console.WriteLine();
                Console.WriteLine(F($"== co-located: uploader, ingest and worker in this process, engine {threads} threads, all {Environment.ProcessorCount} cores shared with s3rver and RabbitMQ (one small machine)"));
                await RoundsAsync(rounds, total, series.Count,
                    () => Task.FromResult(BareInference(Files(warmUp), series.Select(Files).ToList(), threads)),
                    () => PipelineAsync(servers, serverState, warmUp, series, threads, listing, jobs, workerCore: null));
            }
            if (dedicated)
            {
                var others = string.Join(',', Enumerable.Range(0, Environment.ProcessorCount).Where(c => c != workerCore));
                Console.WriteLine();
                Console.WriteLine(F($"== dedicated worker core: the worker process and bare inference on core {workerCore}, engine 1 thread; s3rver, RabbitMQ, uploader and ingest (this process) on cores {others} (a worker host)"));
                using var pinned = CorePinning.Apply(others, serverState);
                var planFile = Path.Combine(work, "bare-plan.json");
                await File.WriteAllBytesAsync(planFile, JsonSerializer.SerializeToUtf8Bytes(new BarePlan([.. Files(warmUp)], [.. series.Select(s => Files(s).ToArray())])));
                await RoundsAsync(rounds, total, series.Count,
                    () => BareInferenceOnCoreAsync(planFile, workerCore),
                    () => PipelineAsync(servers, serverState, warmUp, series, threads: 1, listing, jobs, workerCore));
            }
            Console.WriteLine(F($"load average after: {LoadAverage()}"));
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static IReadOnlyList<string> Files(WrittenSeries series) => series.Files;

    /// <summary>
    /// bare, pipeline, bare, pipeline, ..., bare: each pipeline run is judged against the mean of the bare runs either side
    /// of it, so a machine whose speed drifts (a VM: bare passes minutes apart differ by up to 15 %) shows as spread
    /// between rounds rather than as one lucky or unlucky figure; the median ratio is the placement's figure.
    /// </summary>
    private static async Task RoundsAsync(int rounds, int total, int seriesCount, Func<Task<Bare>> bare, Func<Task<PipelineRun>> pipeline)
    {
        var ratios = new List<double>();
        var before = await bare();
        for (var round = 1; round <= rounds; round++)
        {
            if (rounds > 1) Console.WriteLine(F($"-- round {round} of {rounds}"));
            var run = await pipeline();
            var after = await bare();
            ratios.Add(Report(total, seriesCount, before, after, run));
            before = after;
        }
        if (rounds == 1) return;
        var sorted = ratios.Order().ToList();
        var median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
        Console.WriteLine(F($"ratio by round: {string.Join(" ", ratios.Select(r => F($"{r:F2}")))}; median {median:F2}, range {sorted[0]:F2}-{sorted[^1]:F2} (goal >= 0.90)"));
    }

    /// <summary>Prints one placement's figures: bare inference, pipeline, ratio, where the wall time and the CPU went.</summary>
    /// <returns>The ratio of pipeline to bare-inference throughput.</returns>
    private static double Report(int total, int seriesCount, Bare bare1, Bare bare2, PipelineRun run)
    {
        var bare = (bare1.Seconds + bare2.Seconds) / 2;
        var bareCpu = (bare1.Cpu + bare2.Cpu) / 2;
        Console.WriteLine(F($"bare inference     {total / bare1.Seconds:F2} then {total / bare2.Seconds:F2} slices/s (mean {total / bare:F2}: {bare:F1} s)"));
        Console.WriteLine(F($"pipeline (drop->marker) {total / run.Seconds:F2} slices/s ({run.Seconds:F1} s for {total} slices)"));
        Console.WriteLine(F($"ratio pipeline / bare inference: {bare / run.Seconds:F2} (goal >= 0.90)"));
        Console.WriteLine("where the pipeline's wall time went (s from the first upload):");
        Console.WriteLine(F($"  uploads done {run.UploadsDone:F1}, jobs published {run.FirstJob:F1} to {run.LastJob:F1}, engine first busy {run.Engine[0].Start:F1}, last idle {run.Engine[^1].End:F1}, last marker {run.Seconds:F1}"));
        var busy = run.Engine.Sum(e => e.End - e.Start);
        var gaps = run.Engine.Zip(run.Engine.Skip(1), (x, y) => Math.Max(0, y.Start - x.End)).Sum(); // measured apart: a hair of overlap is clock noise
        Console.WriteLine(F($"  engine busy {busy:F1} ({busy / run.Seconds:P0} of wall; bare needs {bare:F1}); idle {run.Engine[0].Start:F1} before the first job, {gaps:F1} between jobs, {run.Seconds - run.Engine[^1].End:F1} after the last"));
        Console.WriteLine("  engine s per job, in order: " + string.Join(" ", run.Engine.Select(e => F($"{e.End - e.Start:F2}"))) + F($" (bare: {bare / seriesCount:F2} per series)"));
        Console.WriteLine("  worker steps summed over jobs: " + string.Join(", ", run.Steps.Select(s => F($"{s.Key} {s.Value:F1}"))));
        // CPU time per slice depends far less on what else runs on a shared machine than wall time does.
        var ms = 1000.0 / total;
        var cpu = run.Cpu;
        var own = cpu.Process + cpu.Worker + cpu.S3 + cpu.Broker;
        var worker = cpu.Worker > 0 ? F($"worker process {cpu.Worker * ms:F0}, uploads + ingest (this process) {cpu.Process * ms:F0}") : F($"this process: uploads, ingest, worker {cpu.Process * ms:F0}");
        Console.WriteLine(F($"CPU ms per slice: bare inference {bareCpu * ms:F0}; pipeline {own * ms:F0} = {own / bareCpu:F2}x ({worker}, s3rver {cpu.S3 * ms:F0}, RabbitMQ {cpu.Broker * ms:F0})"));
        if (cpu.Worker > 0)
        {
            // Other agents' or niced work on the pinned core slows both figures; shown so a run on a busy machine is recognised.
            var bareOthers = (bare1.CoreBusy - bare1.Cpu + bare2.CoreBusy - bare2.Cpu) / 2;
            var bareSteal = (bare1.CoreSteal + bare2.CoreSteal) / 2;
            Console.WriteLine(F($"  worker process / bare inference CPU: {cpu.Worker / bareCpu:F2}x; the worker's core: busy {cpu.WorkerCoreBusy:F1} s of the pipeline's {run.Seconds:F1}, other processes' {cpu.WorkerCoreBusy - cpu.Worker:F1} s of it (during bare inference: {bareOthers:F1} s of {bare:F1})"));
            // A VM's vCPU can be descheduled by the hypervisor ("steal" in /proc/stat): time the run loses with no process to show for it.
            Console.WriteLine(F($"  hypervisor steal on the worker's core: {cpu.WorkerCoreSteal:F1} s during the pipeline, {bareSteal:F1} s during bare inference"));
            // What the pipeline adds on the worker's compute when other load on the core differs between the measurements;
            // it hides the worker's idle waits when other processes fill them, so the wall ratio above is the goal's figure.
            var coreLeft = run.Seconds - (cpu.WorkerCoreBusy - cpu.Worker);
            Console.WriteLine(F($"  core time left to us (wall less other processes' time on the core): bare {bare - bareOthers:F1} s, pipeline {coreLeft:F1} s: ratio {(bare - bareOthers) / coreLeft:F2}"));
        }
        Console.WriteLine(F($"  GC pauses in this process {run.GcPauses:F2} s ({run.Gen2Collections} gen2 collections)"));
        Console.WriteLine(F($"  CPU s (of {cpu.Available:F0} on {Environment.ProcessorCount} cores): this process {cpu.Process:F1}, worker process {cpu.Worker:F1}, s3rver {cpu.S3:F1}, RabbitMQ {cpu.Broker:F1}, rest of the machine {cpu.Other:F1} (niced {cpu.Niced:F1})"));
        return bare / run.Seconds;
    }

    private static WrittenSeries WriteSeries(Volume volume, int first, int count, int seed, string folder)
    {
        var options = SampleSeriesOptions.ForSlab(Nifti, first, count);
        var noise = new RicianNoise(0.05);
        var stored = SampleSeries.ToStoredScale(volume.Slab(first, count), options.BitsStored);
        return SampleSeries.Write(SampleSeries.AddNoise(stored, noise, seed, options.BitsStored), folder, options, SampleSeries.NoisyKind(noise, seed), seriesNumber: 2);
    }

    /// <summary>Wall and CPU seconds of one bare inference pass, and how long its core was busy meanwhile (pinned passes).</summary>
    private sealed record Bare(double Seconds, double Cpu, double CoreBusy = double.NaN, double CoreSteal = double.NaN);

    /// <summary>The slices a bare-inference child process denoises: the warm-up series, then every series, files in slice order.</summary>
    private sealed record BarePlan(string[] WarmUp, string[][] Series);

    /// <summary>Seconds (and CPU seconds of this process) the worker's engine settings take to denoise every series, slices decoded beforehand.</summary>
    private static Bare BareInference(IReadOnlyList<string> warmUp, IReadOnlyList<IReadOnlyList<string>> series, int threads, int? core = null)
    {
        var model = ModelFolder.Load(DenoisingModel.DefaultFolder);
        var defaults = new DenoiseWorkerOptions();
        var denoiser = DenoisingModel.OpenOnnx(model, new EngineOptions { Threads = threads, Device = DevicePreference.Cpu },
            new TilingOptions { BatchSize = defaults.BatchSize, TileSize = defaults.TileSize });
        try
        {
            static List<Image> Decode(IEnumerable<string> files) => files.Select(f => DicomImages.ToImage(DicomFile.Open(f))).ToList();
            denoiser.Denoise(Decode(warmUp));
            var images = series.Select(Decode).ToList();
            var (cpu, before) = (CpuSample.ProcessSeconds(), core is { } c ? CpuSample.CoreSeconds(c) : (Busy: double.NaN, Steal: double.NaN));
            var watch = Stopwatch.StartNew();
            foreach (var one in images) denoiser.Denoise(one);
            var after = core is { } d ? CpuSample.CoreSeconds(d) : (Busy: double.NaN, Steal: double.NaN);
            return new Bare(watch.Elapsed.TotalSeconds, CpuSample.ProcessSeconds() - cpu, after.Busy - before.Busy, after.Steal - before.Steal);
        }
        finally
        {
            (denoiser.Engine as IDisposable)?.Dispose();
        }
    }

    /// <summary>`pipeline --bare-child plan.json --threads 1 --core N`: bare inference in a process of its own, pinned to core N by its parent.</summary>
    private static int BareChild(string planFile, int threads, int core)
    {
        var plan = JsonSerializer.Deserialize<BarePlan>(File.ReadAllBytes(planFile))!;
        var bare = BareInference(plan.WarmUp, plan.Series, threads, core);
        Console.WriteLine(F($"bare-inference {bare.Seconds:R} {bare.Cpu:R} {bare.CoreBusy:R} {bare.CoreSteal:R}"));
        return 0;
    }

    /// <summary>Bare inference with one engine thread in a child process pinned to <paramref name="core"/>, as the worker process is.</summary>
    private static async Task<Bare> BareInferenceOnCoreAsync(string planFile, int core)
    {
        // This benchmark, started again: the apphost directly, or `dotnet` with this assembly.
        var self = Environment.ProcessPath!;
        List<string> command = ["taskset", "-c", core.ToString(CultureInfo.InvariantCulture), self];
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") command.Add(typeof(PipelineThroughputBenchmark).Assembly.Location);
        command.AddRange(["pipeline", "--bare-child", planFile, "--threads", "1", "--core", core.ToString(CultureInfo.InvariantCulture)]);
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in command.Skip(1)) start.ArgumentList.Add(argument);
        using var child = Process.Start(start)!;
        var output = await child.StandardOutput.ReadToEndAsync();
        await child.WaitForExitAsync();
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("bare-inference ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"bare inference child exited {child.ExitCode}: {output}");
        var parts = line.Split(' ');
        var figures = parts[1..].Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        return new Bare(figures[0], figures[1], figures[2], figures[3]);
    }

    /// <summary>
    /// Pins this process (every thread; threads started later inherit it) and the test servers' process groups to
    /// <c>cores</c> with taskset, so the worker's core is left to the worker; Dispose gives them every core back.
    /// </summary>
    private sealed class CorePinning : IDisposable
    {
        private readonly List<int> _pids;

        private CorePinning(List<int> pids) => _pids = pids;

        public static CorePinning Apply(string cores, string serverState)
        {
            var pids = new List<int> { Environment.ProcessId };
            foreach (var group in new[] { "s3rver", "rabbitmq" })
                pids.AddRange(CpuSample.GroupMembers(Path.Combine(serverState, group, "server.pgid")));
            Pin(pids, cores);
            return new CorePinning(pids);
        }

        public void Dispose() => Pin(_pids, $"0-{Environment.ProcessorCount - 1}");

        private static void Pin(IEnumerable<int> pids, string cores)
        {
            foreach (var pid in pids)
            {
                using var taskset = Process.Start(new ProcessStartInfo("taskset", ["-a", "-p", "-c", cores, pid.ToString(CultureInfo.InvariantCulture)])
                    { RedirectStandardOutput = true, UseShellExecute = false })!;
                taskset.StandardOutput.ReadToEnd();
                taskset.WaitForExit();
                if (taskset.ExitCode != 0 && pid == Environment.ProcessId)
                    throw new InvalidOperationException($"taskset failed ({taskset.ExitCode}): cannot pin this process");
                // A server helper process that ended meanwhile is no error.
            }
        }
    }

    /// <summary>The engine's busy intervals, in seconds from the first upload.</summary>
    private sealed record Interval(double Start, double End);

    /// <summary>CPU seconds spent while the pipeline ran: by this process, the worker process (dedicated placement), each
    /// server, everything else; and how long the worker's core was busy (dedicated placement).</summary>
    private sealed record CpuSeconds(double Available, double Process, double Worker, double S3, double Broker, double Other, double Niced, double WorkerCoreBusy, double WorkerCoreSteal);

    private sealed record PipelineRun(double Seconds, double UploadsDone, double FirstJob, double LastJob, IReadOnlyList<Interval> Engine,
        SortedDictionary<string, double> Steps, CpuSeconds Cpu, double GcPauses, int Gen2Collections);

    /// <summary>
    /// Ingest and one worker on the servers (fresh buckets, the broker's default virtual host): with
    /// <paramref name="workerCore"/> null, both in one host in this process; else ingest here and the worker executable
    /// (services/Pipeline.DenoiseWorker, configured by environment variables as deployed) as its own process pinned to
    /// that core. Each series is uploaded with a manifest naming its instances, so it completes at once (no quiet period).
    /// s3rver sends no bucket events: the uploader publishes each object's event to the broker as MinIO would, and ingest
    /// keeps its production listing interval; with <paramref name="listing"/> there are no events and ingest lists the
    /// bucket every second (every listing reads every object's metadata in s3rver). Times from the first upload to the
    /// last marker; the engine's busy intervals come from the markers (completion time and step timings), jobs published
    /// from ingest's "ingest.series-complete" spans, finished series from the workers' <see cref="SeriesDenoised"/> events.
    /// </summary>
    private static async Task<PipelineRun> PipelineAsync(ServerSettings servers, string serverState, WrittenSeries warmUp, IReadOnlyList<WrittenSeries> series,
        int threads, bool listing, int concurrentJobs, int? workerCore)
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var (input, output) = ($"bench-in-{id}", $"bench-out-{id}");
        var settings = new Dictionary<string, string?>
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
            ["Storage:OutputBucket"] = output,
            ["Ingest:InputBucket"] = input,
            ["DenoiseWorker:Engine:Device"] = "Cpu",
            ["DenoiseWorker:Engine:Threads"] = threads.ToString(CultureInfo.InvariantCulture),
            ["DenoiseWorker:ConcurrentJobs"] = concurrentJobs.ToString(CultureInfo.InvariantCulture),
            ["ModelRegistry:Bucket"] = $"bench-models-{id}",
            ["ModelRegistry:CacheFolder"] = Path.Combine(Path.GetTempPath(), $"bench-models-{id}"),
        };
        if (listing) settings["Ingest:ReconcileInterval"] = "00:00:01";
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "Pipeline.Benchmarks" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddFilter(_ => false);
        builder.Services.Configure<MassTransitHostOptions>(bus => bus.WaitUntilStarted = true); // the event queue exists before the first drop
        var denoised = new DenoisedSeries();
        builder.Services.AddSingleton(denoised);
        builder.AddServiceDefaults(bus =>
        {
            bus.AddIngestConsumers();
            if (workerCore is null) bus.AddDenoiseWorkerConsumers();
            bus.AddConsumer<DenoisedSeriesConsumer>().Endpoint(e =>
            {
                e.Name = $"bench-denoised-{id}";
                e.Temporary = true;
            });
        });
        builder.AddObjectStore();
        builder.AddIngest();
        if (workerCore is null) builder.AddDenoiseWorker();
        using var host = builder.Build();
        var store = (IObjectStore)host.Services.GetService(typeof(IObjectStore))!;
        await store.EnsureBucketAsync(input);
        await host.StartAsync();
        await using var worker = workerCore is { } core
            ? ServiceProcess.Start("worker", "Pipeline.DenoiseWorker", new Dictionary<string, string?>(settings)
            {
                ["ModelRegistry:CacheFolder"] = settings["ModelRegistry:CacheFolder"] + "-worker",
            }, ["taskset", "-c", core.ToString(CultureInfo.InvariantCulture)])
            : null;
        await using var events = listing ? null : await StoreEvents.ConnectAsync(servers.RabbitMq);
        try
        {
            if (worker is not null) await worker.WaitReadyAsync(TimeSpan.FromSeconds(90));
            // Warm-up: registry bootstrap, model fetch and session creation are not throughput.
            await DropAsync(store, events, input, "warm-up/", warmUp);
            await denoised.WaitForAsync([warmUp.SeriesInstanceUid], TimeSpan.FromMinutes(5));

            var started = DateTimeOffset.UtcNow;
            double Since(DateTimeOffset t) => (t - started).TotalSeconds;
            var jobs = new List<double>();
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
            var cpuBefore = CpuSample.Take(serverState, worker?.Id, workerCore);
            var (pausedBefore, gen2Before) = (GC.GetTotalPauseDuration(), GC.CollectionCount(2));

            for (var s = 0; s < series.Count; s++)
                await DropAsync(store, events, input, $"study/s{s}/", series[s]);
            var uploadsDone = Since(DateTimeOffset.UtcNow);
            await denoised.WaitForAsync(series.Select(s => s.SeriesInstanceUid), TimeSpan.FromMinutes(30));
            var cpu = CpuSample.Take(serverState, worker?.Id, workerCore).Minus(cpuBefore);
            var (paused, gen2) = ((GC.GetTotalPauseDuration() - pausedBefore).TotalSeconds, GC.CollectionCount(2) - gen2Before);
            var markers = new List<SeriesCompletion>();
            foreach (var one in series)
                markers.Add(JsonSerializer.Deserialize<SeriesCompletion>(await store.GetBytesAsync(output,
                    BucketLayout.CompletionMarker(one.StudyInstanceUid, one.SeriesInstanceUid, ModelVersion)))!);
            var seconds = Since(markers.Max(m => m.CompletedAt));
            var totals = new SortedDictionary<string, double>(StringComparer.Ordinal);
            foreach (var (step, time) in markers.SelectMany(m => m.Timings))
                totals[step] = totals.GetValueOrDefault(step) + time;
            // The marker's time is taken right after the "write" step, which follows "derive", which follows the engine's "denoise".
            var engine = markers.Select(m => Since(m.CompletedAt) - m.Timings["write"] - m.Timings["derive"])
                .Zip(markers, (end, m) => new Interval(end - m.Timings["denoise"], end)).OrderBy(e => e.Start).ToList();
            lock (jobs)
                return new PipelineRun(seconds, uploadsDone, jobs.Count > 0 ? jobs.Min() : double.NaN, jobs.Count > 0 ? jobs.Max() : double.NaN,
                    engine, totals, cpu, paused, gen2);
        }
        finally
        {
            if (worker is not null && !worker.HasExited) await worker.StopAsync(TimeSpan.FromSeconds(30));
            await host.StopAsync();
        }
    }

    /// <summary>The series whose <see cref="SeriesDenoised"/> this benchmark has seen, and waits for a set of them.</summary>
    public sealed class DenoisedSeries
    {
        private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
        private readonly List<(HashSet<string> Waiting, TaskCompletionSource Done)> _waiters = [];

        public void Add(string seriesUid)
        {
            lock (_seen)
            {
                _seen.Add(seriesUid);
                foreach (var (waiting, done) in _waiters)
                    if (waiting.Remove(seriesUid) && waiting.Count == 0) done.TrySetResult();
            }
        }

        public Task WaitForAsync(IEnumerable<string> seriesUids, TimeSpan timeout)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_seen)
            {
                var waiting = seriesUids.Where(uid => !_seen.Contains(uid)).ToHashSet(StringComparer.Ordinal);
                if (waiting.Count == 0) return Task.CompletedTask;
                _waiters.Add((waiting, done));
            }
            return done.Task.WaitAsync(timeout);
        }
    }

    /// <summary>Counts finished series from the bus (polling the store for markers would load s3rver, ~2.5 CPU ms a request).</summary>
    public sealed class DenoisedSeriesConsumer(DenoisedSeries denoised) : IConsumer<SeriesDenoised>
    {
        public Task Consume(ConsumeContext<SeriesDenoised> context)
        {
            denoised.Add(context.Message.SourceSeriesInstanceUid);
            return Task.CompletedTask;
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

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }

    /// <summary>
    /// Cumulative CPU seconds from /proc: this process, the worker process, the process groups of the test servers (their
    /// start script records each group id under the settings' folder), the whole machine (busy, and the niced part of it)
    /// and the worker's core.
    /// </summary>
    private sealed record CpuSample(double Process, double Worker, double S3, double Broker, double Busy, double Niced, double Total, double CoreBusy, double CoreSteal)
    {
        private const double TicksPerSecond = 100; // USER_HZ

        public static CpuSample Take(string serverState, int? workerPid, int? workerCore)
        {
            var machine = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..9]
                .Select(v => double.Parse(v, CultureInfo.InvariantCulture) / TicksPerSecond).ToArray();
            var core = workerCore is { } c ? CoreSeconds(c) : (Busy: 0, Steal: 0);
            return new CpuSample(Seconds([Environment.ProcessId]), workerPid is { } pid ? Seconds([pid]) : 0,
                Seconds(GroupMembers(Path.Combine(serverState, "s3rver", "server.pgid"))),
                Seconds(GroupMembers(Path.Combine(serverState, "rabbitmq", "server.pgid"))), machine.Sum() - machine[3] - machine[4], machine[1], machine.Sum(), core.Busy, core.Steal);
        }

        public static double ProcessSeconds() => Seconds([Environment.ProcessId]);

        /// <summary>Busy (not idle, not iowait; steal included) and stolen seconds of one core so far.</summary>
        public static (double Busy, double Steal) CoreSeconds(int core)
        {
            var times = File.ReadLines("/proc/stat").First(l => l.StartsWith(F($"cpu{core} "), StringComparison.Ordinal))
                .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..9].Select(v => double.Parse(v, CultureInfo.InvariantCulture) / TicksPerSecond).ToArray();
            return (times.Sum() - times[3] - times[4], times[7]);
        }

        public CpuSeconds Minus(CpuSample before)
        {
            var (process, worker, s3, broker) = (Process - before.Process, Worker - before.Worker, S3 - before.S3, Broker - before.Broker);
            return new(Total - before.Total, process, worker, s3, broker, Busy - before.Busy - process - worker - s3 - broker, Niced - before.Niced, CoreBusy - before.CoreBusy, CoreSteal - before.CoreSteal);
        }

        /// <summary>Live processes of the group whose id the file holds (none when the file is missing).</summary>
        public static List<int> GroupMembers(string pgidFile)
        {
            if (!File.Exists(pgidFile)) return [];
            var pgid = File.ReadAllText(pgidFile).Trim();
            var members = new List<int>();
            foreach (var dir in Directory.EnumerateDirectories("/proc").Where(d => char.IsAsciiDigit(d[^1])))
                if (Stat(dir) is { } fields && fields[2] == pgid) members.Add(int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture));
            return members;
        }

        /// <summary>user + system seconds of these processes.</summary>
        private static double Seconds(IEnumerable<int> pids)
        {
            double seconds = 0;
            foreach (var pid in pids)
                if (Stat(F($"/proc/{pid}")) is { } fields) // utime (12th) stime (13th)
                    seconds += (double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
            return seconds;
        }

        /// <summary>Fields after "(comm)" of /proc/PID/stat (state ppid pgrp ...), or null when the process is gone.</summary>
        private static string[]? Stat(string dir)
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            }
            catch (IOException)
            {
                return null;
            }
        }
    }

}
