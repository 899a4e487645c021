using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
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
using Pipeline.Storage;

namespace Pipeline.Benchmarks;

/// <summary>
/// End-to-end slices/s of ingest + one denoise worker (the services' own registrations) through the real RabbitMQ and
/// S3 server of `infra/test-servers/start.sh`, from the start of a drop to the last completion marker, against the bare
/// inference of the same model on the same slices in the same run (measured before and after, averaged):
/// `pipeline [--series 4] [--slices 24] [--threads 2] [--settings .test-servers/settings.json]`.
/// </summary>
public sealed class PipelineThroughputBenchmark : IBenchmark
{
    private const string Nifti = "/usr/share/mricron/templates/ch2.nii.gz";
    private const string ModelVersion = "denoiser/1";

    public string Name => "pipeline";

    public string Description => "drop-to-marker slices/s through RabbitMQ + S3 (one worker) vs bare inference on the same slices";

    public async Task<int> RunAsync(string[] args)
    {
        var seriesCount = Arguments.Int(args, "series", 4);
        var slices = Arguments.Int(args, "slices", 24);
        var threads = Arguments.Int(args, "threads", 2);
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
            // Noisy MR series from the Colin27 volume (distinct slabs: distinct series UIDs), plus a small warm-up series.
            var volume = NiftiReader.Read(Nifti).Volume;
            if (seriesCount < 1 || slices < 1 || 50 + seriesCount * slices > volume.Depth)
            {
                Console.Error.WriteLine($"--series x --slices must fit slices 50..{volume.Depth - 1} of the volume (distinct slabs give distinct series)");
                return 2;
            }
            var warmUp = WriteSeries(volume, 40, 4, Path.Combine(work, "warm-up"));
            var series = Enumerable.Range(0, seriesCount).Select(s => WriteSeries(volume, 50 + s * slices, slices, Path.Combine(work, $"s{s}"))).ToList();
            var total = seriesCount * slices;
            var (width, height) = (volume.Width, volume.Height);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{seriesCount} series x {slices} slices ({width}x{height}, rician 5%), bundled model, {threads} threads, one worker"));

            var bare1 = BareInference(warmUp, series, threads);
            var (pipeline, steps) = await PipelineAsync(servers, warmUp, series, threads);
            var bare2 = BareInference(warmUp, series, threads);
            var bare = (bare1 + bare2) / 2;

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bare inference     {total / bare1:F2} then {total / bare2:F2} slices/s (mean {total / bare:F2})"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"pipeline (drop->marker) {total / pipeline:F2} slices/s ({pipeline:F1} s for {total} slices)"));
            Console.WriteLine("worker steps (s, summed over jobs): " + string.Join(", ", steps.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Key} {s.Value:F1}"))));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio pipeline / bare inference: {bare / pipeline:F2} (goal >= 0.90)"));
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static WrittenSeries WriteSeries(Volume volume, int first, int count, string folder)
    {
        var options = SampleSeriesOptions.ForSlab(Nifti, first, count);
        var noise = new RicianNoise(0.05);
        var stored = SampleSeries.ToStoredScale(volume.Slab(first, count), options.BitsStored);
        return SampleSeries.Write(SampleSeries.AddNoise(stored, noise, seed: first, options.BitsStored), folder, options, SampleSeries.NoisyKind(noise, first), seriesNumber: 2);
    }

    /// <summary>Seconds the worker's engine settings take to denoise every series, slices decoded beforehand.</summary>
    private static double BareInference(WrittenSeries warmUp, IReadOnlyList<WrittenSeries> series, int threads)
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
            var watch = Stopwatch.StartNew();
            foreach (var one in images) denoiser.Denoise(one);
            return watch.Elapsed.TotalSeconds;
        }
        finally
        {
            (denoiser.Engine as IDisposable)?.Dispose();
        }
    }

    /// <summary>
    /// Ingest and one worker in one host on the servers (fresh buckets, the broker's default virtual host). Each series
    /// is uploaded with a manifest naming its instances, so it completes at once (no quiet period); the store sends no
    /// events, so ingest finds objects by its 1 s listing. Returns seconds from the first upload to the last marker.
    /// </summary>
    private static async Task<(double Seconds, SortedDictionary<string, double> Steps)> PipelineAsync(ServerSettings servers, WrittenSeries warmUp, IReadOnlyList<WrittenSeries> series, int threads)
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
            ["Ingest:ReconcileInterval"] = "00:00:01",
            ["DenoiseWorker:OutputBucket"] = output,
            ["DenoiseWorker:Engine:Device"] = "Cpu",
            ["DenoiseWorker:Engine:Threads"] = threads.ToString(CultureInfo.InvariantCulture),
            ["ModelRegistry:Bucket"] = $"bench-models-{id}",
            ["ModelRegistry:CacheFolder"] = Path.Combine(Path.GetTempPath(), $"bench-models-{id}"),
        });
        builder.Logging.AddFilter(_ => false);
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
        try
        {
            // Warm-up: registry bootstrap, model fetch and session creation are not throughput.
            await DropAsync(store, input, "warm-up/", warmUp);
            await WaitForMarkersAsync(store, output, [warmUp]);

            var watch = Stopwatch.StartNew();
            var started = DateTimeOffset.UtcNow;
            for (var s = 0; s < series.Count; s++)
                await DropAsync(store, input, $"study/s{s}/", series[s]);
            var markers = await WaitForMarkersAsync(store, output, series);
            var last = markers.Max(m => m.CompletedAt);
            var steps = new SortedDictionary<string, double>(StringComparer.Ordinal);
            foreach (var (step, seconds) in markers.SelectMany(m => m.Timings))
                steps[step] = steps.GetValueOrDefault(step) + seconds;
            return ((last - started).TotalSeconds, steps);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private static async Task DropAsync(IObjectStore store, string bucket, string prefix, WrittenSeries series)
    {
        await Parallel.ForEachAsync(series.Files, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (file, ct) =>
            await store.PutBytesAsync(bucket, prefix + Path.GetFileName(file), await File.ReadAllBytesAsync(file, ct), cancellationToken: ct));
        var manifest = JsonSerializer.SerializeToUtf8Bytes(new { instances = series.Files.Select(Path.GetFileName) });
        await store.PutBytesAsync(bucket, prefix + new IngestOptions().MarkerFileName, manifest);
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

    /// <summary>The part of .test-servers/settings.json this benchmark needs.</summary>
    private sealed record ServerSettings(RabbitMqSettings RabbitMq, StorageSection Storage);

    private sealed record RabbitMqSettings(string Host, int Port, string VirtualHost, string Username, string Password);

    private sealed record StorageSection(S3Section S3);

    private sealed record S3Section(string Endpoint, string AccessKey, string SecretKey, string Region);
}
