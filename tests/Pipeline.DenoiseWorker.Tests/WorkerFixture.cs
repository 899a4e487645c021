using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.DenoiseWorker.Models;
using Pipeline.Denoising.Models;
using Pipeline.Hosting;
using Pipeline.Registry;
using Pipeline.Storage;
using Pipeline.Storage.Local;

namespace Pipeline.DenoiseWorker.Tests;

/// <summary>
/// The worker's consumers on MassTransit's in-memory test harness, over a real local-folder store holding
/// the committed noisy sample series in "incoming" and the bundled model published as "denoiser/1".
/// </summary>
public sealed class WorkerFixture : IAsyncDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("worker-tests-").FullName;
    private ServiceProvider _provider = null!;

    public LocalFolderObjectStore Store { get; private set; } = null!;
    public ITestHarness Harness { get; private set; } = null!;
    public ModelRegistry Registry { get; private set; } = null!;
    public List<ObjectRef> Instances { get; } = [];
    public string StudyUid { get; private set; } = "";
    public string SeriesUid { get; private set; } = "";
    /// <summary>The worker's "Limits" settings; a test may change them before a job (they are read per job).</summary>
    public LimitsOptions Limits { get; } = new();

    /// <param name="configure">Registers more of the worker (e.g. its disk watermark) before the bus starts.</param>
    public static async Task<WorkerFixture> StartAsync(Action<IServiceCollection>? configure = null)
    {
        var fixture = new WorkerFixture();
        await fixture.InitializeAsync(configure);
        return fixture;
    }

    /// <summary>A service of the worker's container.</summary>
    public T Service<T>()
        where T : notnull => _provider.GetRequiredService<T>();

    private async Task InitializeAsync(Action<IServiceCollection>? configure)
    {
        Store = new LocalFolderObjectStore(new LocalFolderStorageOptions { Root = Path.Combine(_root, "store") });
        await Store.EnsureBucketAsync("incoming");
        await Store.EnsureBucketAsync("denoised");
        foreach (var file in Directory.GetFiles(Path.Combine(SampleData.SampleStudy, "t1-noisy")).Order(StringComparer.Ordinal))
        {
            var key = "study/t1-noisy/" + Path.GetFileName(file);
            await Store.PutBytesAsync("incoming", key, await File.ReadAllBytesAsync(file));
            Instances.Add(new ObjectRef("incoming", key));
        }
        var first = Dicom.DicomFile.Open(Path.Combine(SampleData.SampleStudy, "t1-noisy", "0001.dcm")).Dataset;
        StudyUid = first.GetRequiredString(Dicom.DicomTags.StudyInstanceUID);
        SeriesUid = first.GetRequiredString(Dicom.DicomTags.SeriesInstanceUID);

        Registry = new ModelRegistry(Store, new ModelRegistryOptions { CacheFolder = Path.Combine(_root, "cache") });
        await Registry.EnsureCurrentAsync("denoiser", DenoisingModel.DefaultFolder);

        var services = new ServiceCollection();
        services.AddSingleton(Store);
        services.AddSingleton<IObjectStore>(Store);
        services.AddSingleton(Registry);
        services.AddSingleton(Options.Create(new DenoiseWorkerOptions { Engine = new EngineSettings { Threads = 2 } }));
        services.AddSingleton(Options.Create(new StorageOptions()));
        services.AddSingleton(Options.Create(Limits));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddMetrics(); // IMeterFactory, as every host has
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddSingleton<LoadedModels>();
        configure?.Invoke(services);
        services.AddMassTransitTestHarness(bus => bus.AddDenoiseWorkerConsumers());
        _provider = services.BuildServiceProvider(true);
        Harness = _provider.GetRequiredService<ITestHarness>();
        Harness.TestTimeout = TimeSpan.FromMinutes(3);
        Harness.TestInactivityTimeout = TimeSpan.FromSeconds(5);
        await Harness.Start();
    }

    public DenoiseSeries Job(IReadOnlyList<ObjectRef>? instances = null, int revision = 1, string modelVersion = "denoiser/1") =>
        new(StudyUid, SeriesUid, instances ?? Instances, modelVersion, JobPriority.Normal, "MR", revision, $"fingerprint-{revision}-{(instances ?? Instances).Count}");

    /// <summary>Publishes a message and waits until the worker has finished with it (consumed or faulted).</summary>
    public async Task RunAsync<T>(T message)
        where T : class
    {
        var before = Harness.Consumed.Select<T>().Count();
        await Harness.Bus.Publish(message);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (Harness.Consumed.Select<T>().Count() <= before)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the worker did not consume the {typeof(T).Name}");
            await Task.Delay(50);
        }
        await Harness.InactivityTask; // its publishes (SeriesDenoised, InstanceFailed, faults) have been delivered
    }

    public string MarkerKey(string modelVersion = "denoiser/1") => BucketLayout.CompletionMarker(StudyUid, SeriesUid, modelVersion);

    public async Task<List<string>> KeysAsync(string prefix) =>
        (await Store.ListAsync("denoised", prefix).ToListAsync()).Select(o => o.Key).ToList();

    public string LocalPath(string bucket, string key) => Path.Combine(Store.Root, bucket, key);

    public async ValueTask DisposeAsync()
    {
        await Harness.Stop();
        await _provider.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }
}
