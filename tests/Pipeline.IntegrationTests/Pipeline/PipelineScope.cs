using System.Globalization;
using Pipeline.Contracts;
using Pipeline.Storage;
using Pipeline.Storage.S3;

namespace Pipeline.IntegrationTests.Pipeline;

/// <summary>
/// One test's share of the servers: its own RabbitMQ virtual host (the services' queue names are fixed, so this is
/// what keeps tests from consuming each other's messages) and its own input, output and model buckets, plus the
/// settings that point the services at them.
/// </summary>
public sealed class PipelineScope : IAsyncDisposable
{
    private readonly TestServers _servers;
    private readonly S3ObjectStore _store;

    private PipelineScope(TestServers servers, string id, string virtualHost)
    {
        _servers = servers;
        Id = id;
        VirtualHost = virtualHost;
        _store = new S3ObjectStore(servers.S3);
        CacheFolder = Directory.CreateTempSubdirectory("it-models-").FullName;
    }

    public string Id { get; }
    public string VirtualHost { get; }
    public string InputBucket => "in-" + Id;
    public string OutputBucket => "out-" + Id;
    public string ModelsBucket => "models-" + Id;
    public string CacheFolder { get; }
    public IObjectStore Store => _store;
    public TestServers Servers => _servers;

    public static async Task<PipelineScope> CreateAsync(TestServers servers)
    {
        var scope = new PipelineScope(servers, Guid.NewGuid().ToString("N")[..10], await servers.TakeVirtualHostAsync());
        await scope.Store.EnsureBucketAsync(scope.InputBucket);
        return scope;
    }

    /// <summary>How often ingest lists the input bucket in these tests (s3rver sends no events).</summary>
    public static readonly TimeSpan ReconcileInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Quiet period of the tests: without bucket events ingest sees new objects only when it lists, so this must
    /// outlast the listing interval plus the longest pause between uploads (a loaded machine stalls for seconds), or a
    /// series still being uploaded completes early and is redone as a second revision.
    /// </summary>
    public static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(4);

    /// <summary>
    /// Configuration of all three services (keys as in appsettings: "Section:Name"): RabbitMQ in this scope's virtual
    /// host, the S3 server, this scope's buckets, the tests' quiet period and listing interval.
    /// </summary>
    public Dictionary<string, string?> Settings()
    {
        var rabbit = _servers.RabbitMq;
        var s3 = _servers.S3;
        return new Dictionary<string, string?>
        {
            ["Bus:Transport"] = "RabbitMq",
            ["Bus:RabbitMq:Host"] = rabbit.Host,
            ["Bus:RabbitMq:Port"] = rabbit.Port.ToString(CultureInfo.InvariantCulture),
            ["Bus:RabbitMq:VirtualHost"] = VirtualHost,
            ["Bus:RabbitMq:Username"] = rabbit.Username,
            ["Bus:RabbitMq:Password"] = rabbit.Password,
            ["Storage:Kind"] = "S3",
            ["Storage:S3:Endpoint"] = s3.Endpoint,
            ["Storage:S3:AccessKey"] = s3.AccessKey,
            ["Storage:S3:SecretKey"] = s3.SecretKey,
            ["Storage:S3:Region"] = s3.Region,
            ["Storage:S3:UseTls"] = s3.UseTls ? "true" : "false",
            ["Storage:OutputBucket"] = OutputBucket,
            ["Ingest:InputBucket"] = InputBucket,
            ["Ingest:QuietPeriod"] = QuietPeriod.ToString("c", CultureInfo.InvariantCulture),
            ["Ingest:ReconcileInterval"] = ReconcileInterval.ToString("c", CultureInfo.InvariantCulture),
            ["ModelRegistry:Bucket"] = ModelsBucket,
            ["ModelRegistry:CacheFolder"] = CacheFolder,
        };
    }

    /// <summary>The first <paramref name="slices"/> files of a committed sample series ("t1" or "t1-noisy"), in slice order.</summary>
    public static string[] SampleSeries(string series, int slices) =>
        Directory.GetFiles(Path.Combine(SampleData.SampleStudy, series)).Order(StringComparer.Ordinal).Take(slices).ToArray();

    /// <summary>Uploads files into the input bucket, four at a time as an uploader would: each to {prefix}{file name}.</summary>
    public async Task<IReadOnlyList<ObjectRef>> DropAsync(string prefix, IEnumerable<string> files)
    {
        var dropped = files.Select(f => (File: f, Object: new ObjectRef(InputBucket, prefix + Path.GetFileName(f)))).ToList();
        await Parallel.ForEachAsync(dropped, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            async (d, ct) => await Store.PutBytesAsync(InputBucket, d.Object.Key, await File.ReadAllBytesAsync(d.File, ct), cancellationToken: ct));
        return dropped.Select(d => d.Object).ToList();
    }

    public async Task<ObjectRef> DropAsync(string key, byte[] bytes)
    {
        await Store.PutBytesAsync(InputBucket, key, bytes);
        return new ObjectRef(InputBucket, key);
    }

    /// <summary>Every object of a bucket with its bytes, by key.</summary>
    public async Task<SortedDictionary<string, byte[]>> ReadAllAsync(string bucket, string prefix = "")
    {
        var all = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        await foreach (var listed in Store.ListAsync(bucket, prefix))
            all[listed.Key] = await Store.GetBytesAsync(bucket, listed.Key);
        return all;
    }

    public async Task<List<string>> KeysAsync(string bucket, string prefix = "")
    {
        var keys = new List<string>();
        await foreach (var listed in Store.ListAsync(bucket, prefix))
            keys.Add(listed.Key);
        return keys;
    }

    /// <summary>
    /// Removes the model cache. The virtual host is deleted with the other tests' when the servers fixture ends; the
    /// buckets go with s3rver's next fresh start.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        _store.Dispose();
        Directory.Delete(CacheFolder, recursive: true);
        return ValueTask.CompletedTask;
    }
}
