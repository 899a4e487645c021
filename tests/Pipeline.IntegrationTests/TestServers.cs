using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using Pipeline.Storage.S3;

namespace Pipeline.IntegrationTests;

/// <summary>The real RabbitMQ and S3 server started by infra/test-servers/start.sh, shared by every test here.</summary>
/// <remarks>When they are not running every test FAILS (never skips) with the command that starts them:
/// CI runs these tests, and a silent skip would hide a broken setup.</remarks>
public sealed class TestServers : IAsyncLifetime
{
    private const string StartHint = "Start the test servers with `bash infra/test-servers/start.sh` (or run everything with `bash infra/test.sh`).";

    private string? _settingsPath;
    private Settings? _settings;
    private readonly SemaphoreSlim _virtualHostsLock = new(1, 1);
    private readonly Queue<string> _freeVirtualHosts = new();
    private readonly List<string> _createdVirtualHosts = [];

    /// <summary>Where the broker listens, with its development credentials.</summary>
    public RabbitMqEndpoint RabbitMq => Loaded.RabbitMq;

    /// <summary>Connection to the S3 server.</summary>
    public S3StorageOptions S3 => Loaded.Storage.S3;

    private Settings Loaded => _settings ?? throw new InvalidOperationException("TestServers used before InitializeAsync.");

    /// <summary>Servers of another state dir (start.sh with PIPELINE_TEST_SERVERS_DIR): a test's private instance.</summary>
    public static async Task<TestServers> LoadAsync(string settingsPath)
    {
        var servers = new TestServers { _settingsPath = settingsPath };
        await servers.InitializeAsync();
        return servers;
    }

    public async Task InitializeAsync()
    {
        var path = _settingsPath ?? SettingsPath();
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"No test-server settings at {path}. {StartHint}");
        }

        _settings = JsonSerializer.Deserialize<Settings>(await File.ReadAllBytesAsync(path), new JsonSerializerOptions(JsonSerializerDefaults.Web))
            ?? throw new InvalidOperationException($"Empty test-server settings at {path}. {StartHint}");

        var s3 = _settings.Storage.S3.Endpoint.Split(':');
        await RequireListening("RabbitMQ", _settings.RabbitMq.Host, _settings.RabbitMq.Port);
        await RequireListening("S3 server (s3rver)", s3[0], int.Parse(s3[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Deletes the virtual hosts handed out by <see cref="TakeVirtualHostAsync"/> (their queues and exchanges go with them).</summary>
    public async Task DisposeAsync()
    {
        if (_createdVirtualHosts.Count > 0)
            await RabbitMqCtlAsync("eval", $"[rabbit_vhost:delete(V, <<\"integration-tests\">>) || V <- [{ErlangBinaries(_createdVirtualHosts)}]].");
        _virtualHostsLock.Dispose();
    }

    /// <summary>
    /// A fresh, empty virtual host that the broker user may use fully: a test's own queues and exchanges (the services'
    /// queue names are fixed). Made in batches with one rabbitmqctl call (each call starts an Erlang VM: seconds on a
    /// loaded machine).
    /// </summary>
    public async Task<string> TakeVirtualHostAsync()
    {
        await _virtualHostsLock.WaitAsync();
        try
        {
            if (_freeVirtualHosts.Count == 0)
            {
                var batch = Enumerable.Range(0, 6).Select(_ => "it-" + Guid.NewGuid().ToString("N")[..10]).ToList();
                var user = ErlangBinaries([RabbitMq.Username]);
                await RabbitMqCtlAsync("eval", $"[begin ok = rabbit_vhost:add(V, <<\"integration-tests\">>), ok = rabbit_auth_backend_internal:set_permissions({user}, V, "
                    + "<<\".*\">>, <<\".*\">>, <<\".*\">>, <<\"integration-tests\">>) end || V <- [" + ErlangBinaries(batch) + "]].");
                _createdVirtualHosts.AddRange(batch);
                batch.ForEach(_freeVirtualHosts.Enqueue);
            }
            return _freeVirtualHosts.Dequeue();
        }
        finally
        {
            _virtualHostsLock.Release();
        }
    }

    private static string ErlangBinaries(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"<<\"{n}\">>"));

    /// <summary>Runs rabbitmqctl against the test node (the management-plugin-free way to inspect queues).</summary>
    public async Task<string> RabbitMqCtlAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Loaded.RabbitMqCtl.Path) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in Loaded.RabbitMqCtl.Environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("rabbitmqctl did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', arguments)} exited {process.ExitCode}: {await error}");
        }

        return await output;
    }

    /// <summary>PIPELINE_TEST_SERVERS_SETTINGS if set, else .test-servers/settings.json at the repository root.</summary>
    private static string SettingsPath()
    {
        if (Environment.GetEnvironmentVariable("PIPELINE_TEST_SERVERS_SETTINGS") is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln")))
            {
                return Path.Combine(dir.FullName, ".test-servers", "settings.json");
            }
        }

        throw new InvalidOperationException($"Cannot find the repository root (Pipeline.sln) above {AppContext.BaseDirectory}. {StartHint}");
    }

    private static async Task RequireListening(string name, string host, int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(host, port).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is SocketException or TimeoutException)
        {
            throw new InvalidOperationException($"{name} is not reachable at {host}:{port} ({e.Message}). {StartHint}", e);
        }
    }

    private sealed record Settings(RabbitMqEndpoint RabbitMq, StorageSection Storage, RabbitMqCtlSettings RabbitMqCtl);

    private sealed record StorageSection(S3StorageOptions S3);

    private sealed record RabbitMqCtlSettings(string Path, Dictionary<string, string> Environment);
}

/// <summary>A RabbitMQ broker address and credentials.</summary>
public sealed record RabbitMqEndpoint(string Host, int Port, string VirtualHost, string Username, string Password)
{
    /// <summary>The plain RabbitMQ client's connection settings, for this virtual host or another one.</summary>
    public RabbitMQ.Client.ConnectionFactory ConnectionFactory(string? virtualHost = null) => new()
    {
        HostName = Host,
        Port = Port,
        VirtualHost = virtualHost ?? VirtualHost,
        UserName = Username,
        Password = Password,
    };
}

/// <summary>Every test class that uses the servers joins this collection, so they share one <see cref="TestServers"/>.</summary>
[CollectionDefinition(Name)]
public sealed class TestServersCollection : ICollectionFixture<TestServers>
{
    public const string Name = "Test servers";
}
