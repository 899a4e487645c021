using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.Dicom;
using Pipeline.Storage;
using Pipeline.Storage.Local;
using Pipeline.Testing;

namespace Pipeline.Evaluation.Tests;

/// <summary>
/// The evaluation service as hosts wire it (AddEvaluation + AddEvaluationConsumers) on MassTransit's in-memory test
/// harness, over a real local-folder store filled from the committed sample study: source = the 5% Rician series,
/// derived = instances made with DerivedInstance.Create from (noisy + clean) / 2 (a denoiser that halves the noise),
/// optional reference = the clean series.
/// </summary>
internal sealed class EvaluationFixture : IAsyncDisposable
{
    /// <summary>One test at a time: the metrics and span listeners of one test would hear another's measurements.</summary>
    public const string Collection = "evaluation service";

    public const string ModelVersion = "test/1";
    public const string Output = "denoised";
    public static readonly string SampleStudy = SampleData.SampleStudy;

    private readonly string _root = Directory.CreateTempSubdirectory("evaluation-tests-").FullName;
    private IHost _host = null!;

    public LocalFolderObjectStore Store { get; private set; } = null!;
    public ITestHarness Harness { get; private set; } = null!;
    public IServiceProvider Services => _host.Services;
    public SeriesDenoised Job { get; private set; } = null!;

    /// <summary>Source files (noisy) and reference files (clean), in slice order (file names are slice order).</summary>
    public static IReadOnlyList<string> NoisyFiles => Files("t1-noisy");
    public static IReadOnlyList<string> CleanFiles => Files("t1");

    private static string[] Files(string series) =>
        [.. Directory.EnumerateFiles(Path.Combine(SampleStudy, series), "*.dcm").Order(StringComparer.Ordinal)];

    public static async Task<EvaluationFixture> StartAsync(bool registerReference, int montageSlices = 3)
    {
        var fixture = new EvaluationFixture();
        await fixture.InitialiseAsync(registerReference, montageSlices);
        return fixture;
    }

    private async Task InitialiseAsync(bool registerReference, int montageSlices)
    {
        Store = new LocalFolderObjectStore(new LocalFolderStorageOptions { Root = _root });
        foreach (var bucket in new[] { "incoming", Output, "references" }) await Store.EnsureBucketAsync(bucket);

        var pairs = new List<DenoisedInstance>();
        string study = "", series = "", derivedSeries = "";
        for (var i = 0; i < NoisyFiles.Count; i++)
        {
            var noisy = DicomFile.Open(NoisyFiles[i]);
            var clean = DicomFile.Open(CleanFiles[i]);
            study = noisy.Dataset.GetString(DicomTags.StudyInstanceUID)!;
            series = noisy.Dataset.GetString(DicomTags.SeriesInstanceUID)!;
            var (a, b) = (noisy.GetPixelData().GetFrame(0), clean.GetPixelData().GetFrame(0));
            var halfway = a.Select((v, p) => (v + b[p]) / 2).ToArray();
            var derived = DerivedInstance.Create(noisy.Dataset, [halfway], new DerivationOptions { ModelVersion = ModelVersion });
            derivedSeries = derived.Dataset.GetString(DicomTags.SeriesInstanceUID)!;
            var source = new ObjectRef("incoming", $"drop/sample/t1-noisy/{Path.GetFileName(NoisyFiles[i])}");
            var output = new ObjectRef(Output, BucketLayout.DerivedInstance(study, series, ModelVersion, 1, derived.Dataset.GetString(DicomTags.SOPInstanceUID)!));
            await Store.PutBytesAsync(source.Bucket, source.Key, await File.ReadAllBytesAsync(NoisyFiles[i]));
            using var buffer = new MemoryStream();
            derived.Save(buffer);
            await Store.PutBytesAsync(output.Bucket, output.Key, buffer.ToArray());
            pairs.Add(new DenoisedInstance(source, output));
        }
        if (registerReference)
        {
            var references = new List<ObjectRef>();
            // Listed in reverse: the registration's order must not matter, slice positions do.
            foreach (var file in CleanFiles.Reverse())
            {
                var reference = new ObjectRef("references", $"colin27/t1/{Path.GetFileName(file)}");
                await Store.PutBytesAsync(reference.Bucket, reference.Key, await File.ReadAllBytesAsync(file));
                references.Add(reference);
            }
            await Store.PutBytesAsync(Output, BucketLayout.Reference(study, series),
                System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new CleanReference(references)));
        }
        Job = new SeriesDenoised(study, series, derivedSeries, ModelVersion, pairs,
            new ObjectRef(Output, BucketLayout.CompletionMarker(study, series, ModelVersion)), 0, Revision: 1);

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Evaluation:MontageSlices"] = montageSlices.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["ModelRegistry:CacheFolder"] = Path.Combine(_root, "model-cache"),
        });
        builder.Services.AddSingleton<IObjectStore>(Store);
        builder.Services.AddSingleton(Options.Create(new StorageOptions { OutputBucket = Output }));
        builder.AddEvaluation();
        builder.Services.AddMassTransitTestHarness(bus => bus.AddEvaluationConsumers());
        _host = builder.Build();
        await _host.StartAsync();
        Harness = _host.Services.GetRequiredService<ITestHarness>();
        Harness.TestInactivityTimeout = TimeSpan.FromMilliseconds(300);
    }

    /// <summary>Publishes the job and waits until the consumer has handled it (or faulted).</summary>
    public Task DeliverAsync(SeriesDenoised? job = null) => DeliverAsync<SeriesDenoisedConsumer, SeriesDenoised>(job ?? Job);

    /// <summary>Publishes a message and waits until <typeparamref name="TConsumer"/> has handled it and the replies are out.</summary>
    public async Task DeliverAsync<TConsumer, TMessage>(TMessage message)
        where TConsumer : class, IConsumer
        where TMessage : class
    {
        var consumer = Harness.GetConsumerHarness<TConsumer>();
        var before = consumer.Consumed.Select<TMessage>().Count();
        await Harness.Bus.Publish(message);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        while (consumer.Consumed.Select<TMessage>().Count() <= before)
            await Task.Delay(50, timeout.Token);
        await Harness.InactivityTask; // the reply (or fault) is published after the consume
    }

    public Task<byte[]> ReadAsync(string key) => Store.GetBytesAsync(Output, key);

    public string ReportKey => BucketLayout.Report(Job.StudyInstanceUid, Job.SourceSeriesInstanceUid, ModelVersion);
    public string MontageKey => BucketLayout.Montage(Job.StudyInstanceUid, Job.SourceSeriesInstanceUid, ModelVersion);

    public async Task<EvaluationReport> ReportAsync() =>
        System.Text.Json.JsonSerializer.Deserialize<EvaluationReport>(await ReadAsync(ReportKey), EvaluationReport.Json)!;

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
