using System.Text.Json;
using Pipeline.Storage.S3;

namespace Pipeline.Benchmarks;

/// <summary>The part of .test-servers/settings.json (written by infra/test-servers/start.sh) the benchmarks need.</summary>
internal sealed record ServerSettings(RabbitMqSettings RabbitMq, StorageSection Storage)
{
    /// <summary>The settings of `--settings PATH` (default: this checkout's .test-servers), or null (and why) when absent.</summary>
    public static async Task<ServerSettings?> LoadAsync(string[] args)
    {
        var path = Arguments.Get(args, "settings") ?? Path.Combine(PipelineThroughputBenchmark.RepositoryRoot(), ".test-servers", "settings.json");
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"no test-server settings at {path}: start the servers with `bash infra/test-servers/start.sh`");
            return null;
        }
        return JsonSerializer.Deserialize<ServerSettings>(await File.ReadAllBytesAsync(path), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
    }

    public S3ObjectStore Store() => new(new S3StorageOptions
    {
        Endpoint = Storage.S3.Endpoint, AccessKey = Storage.S3.AccessKey, SecretKey = Storage.S3.SecretKey, Region = Storage.S3.Region, UseTls = false,
    });
}

internal sealed record RabbitMqSettings(string Host, int Port, string VirtualHost, string Username, string Password);

internal sealed record StorageSection(S3Section S3);

internal sealed record S3Section(string Endpoint, string AccessKey, string SecretKey, string Region);
