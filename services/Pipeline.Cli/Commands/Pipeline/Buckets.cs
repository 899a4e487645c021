using Microsoft.Extensions.Configuration;
using Pipeline.Cli.Embedded;
using Pipeline.Storage;
using Pipeline.Storage.Local;

namespace Pipeline.Cli.Commands.Pipeline;

/// <summary>
/// The buckets an admin verb reads: an embedded run's folders (OUT_DIR, and its INPUT_DIR when given), or the distributed
/// deployment's object store configured like the services (Storage__Kind=S3, Storage__S3__..., Storage__OutputBucket, Ingest__InputBucket).
/// </summary>
internal sealed record Buckets(IObjectStore Store, string Input, string Output)
{
    /// <summary>The buckets, or null with <paramref name="error"/> saying what is missing.</summary>
    public static Buckets? Open(string? outputFolder, string? inputFolder, out string error)
    {
        error = "";
        if (outputFolder is not null)
        {
            if (!Directory.Exists(outputFolder))
            {
                error = $"no such folder: {outputFolder}";
                return null;
            }
            var buckets = new Dictionary<string, string> { [EmbeddedPipeline.OutputBucket] = Path.GetFullPath(outputFolder) };
            if (inputFolder is not null) buckets[EmbeddedPipeline.InputBucket] = Path.GetFullPath(inputFolder);
            var store = new LocalFolderObjectStore(new LocalFolderStorageOptions
            {
                Root = Path.Combine(Path.GetFullPath(outputFolder), EmbeddedPipeline.StateFolder),
                BucketFolders = buckets,
            });
            return new Buckets(store, EmbeddedPipeline.InputBucket, EmbeddedPipeline.OutputBucket);
        }
        var configuration = Environment();
        var storage = configuration.GetSection("Storage").Get<StorageOptions>();
        if (storage is null)
        {
            error = "give an embedded run's OUT_DIR, or configure the object store (Storage__Kind, Storage__S3__...)";
            return null;
        }
        return new Buckets(storage.CreateStore(), configuration["Ingest:InputBucket"] ?? EmbeddedPipeline.InputBucket, storage.OutputBucket);
    }

    /// <summary>The deployment's settings as the tool sees them: environment variables (Section__Key), as the services read them.</summary>
    public static IConfiguration Environment() => new ConfigurationBuilder().AddEnvironmentVariables().Build();
}
