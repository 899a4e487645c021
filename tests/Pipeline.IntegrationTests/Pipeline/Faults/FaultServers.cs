using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Pipeline.Contracts;
using Pipeline.Hosting;
using Pipeline.Storage;
using Pipeline.Storage.S3;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Pipeline.Faults;

/// <summary>A fault test: its own <see cref="PipelineScope"/> (virtual host and buckets) on the shared servers.</summary>
public abstract class FaultTest(TestServers servers) : IAsyncLifetime
{
    protected TestServers Servers => servers;

    protected PipelineScope Scope { get; private set; } = null!;

    public async Task InitializeAsync() => Scope = await PipelineScope.CreateAsync(servers);

    public async Task DisposeAsync() => await Scope.DisposeAsync();
}

/// <summary>What the fault tests share: starting the services as processes, looking into queues, reading failure records.</summary>
internal static class FaultServers
{
    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    /// <summary>A worker that holds one job at a time on a one-thread engine, with its own model cache.</summary>
    public static Dictionary<string, string?> Worker(PipelineScope scope, Dictionary<string, string?> settings, string name) =>
        new(settings)
        {
            ["Bus:PrefetchCount"] = "1",
            ["DenoiseWorker:ConcurrentJobs"] = "1",
            ["DenoiseWorker:Engine:Threads"] = "1",
            ["ModelRegistry:CacheFolder"] = Path.Combine(scope.CacheFolder, name),
        };

    /// <summary>Starts the processes together and waits until each answers /health/ready.</summary>
    public static async Task<List<ServiceProcess>> StartAsync(params (string Name, string Project, IReadOnlyDictionary<string, string?> Settings)[] services)
    {
        var started = services.Select(s => ServiceProcess.Start(s.Name, s.Project, s.Settings)).ToList();
        try
        {
            await Task.WhenAll(started.Select(p => p.WaitReadyAsync(TimeSpan.FromSeconds(90))));
        }
        catch
        {
            foreach (var process in started) await process.DisposeAsync();
            throw;
        }
        return started;
    }

    /// <summary>Writes each process' log to the test output and kills what is still running.</summary>
    public static async Task DisposeAllAsync(ITestOutputHelper output, IEnumerable<ServiceProcess> processes)
    {
        foreach (var process in processes)
        {
            foreach (var line in process.Lines) output.WriteLine($"[{process.Name}] {line}");
            await process.DisposeAsync();
        }
    }

    /// <summary>Messages in a queue of the scope's virtual host (0 when the queue does not exist).</summary>
    public static async Task<uint> QueueDepthAsync(PipelineScope scope, string queue)
    {
        await using var connection = await scope.Servers.RabbitMq.ConnectionFactory(scope.VirtualHost).CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (OperationInterruptedException)
        {
            return 0;
        }
    }

    /// <summary>Waits until a queue holds at least <paramref name="count"/> messages (the broker's count lags a move).</summary>
    public static async Task WaitForDepthAsync(PipelineScope scope, string queue, uint count, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        uint depth;
        while ((depth = await QueueDepthAsync(scope, queue)) < count)
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"waited {timeout.TotalSeconds:F0} s for {count} messages in {queue}, saw {depth}");
            await Task.Delay(250);
        }
    }

    /// <summary>The fault headers of every message in a queue; the messages stay there (fetched unacknowledged, then returned).</summary>
    public static async Task<List<string>> FaultMessagesAsync(PipelineScope scope, string queue)
    {
        await using var connection = await scope.Servers.RabbitMq.ConnectionFactory(scope.VirtualHost).CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var reasons = new List<string>();
        while (await channel.BasicGetAsync(queue, autoAck: false) is { } message)
            reasons.Add(message.BasicProperties.Headers?.TryGetValue("MT-Fault-Message", out var value) == true && value is byte[] bytes
                ? Encoding.UTF8.GetString(bytes) : "");
        return reasons; // closing the channel returns the unacknowledged messages to the queue
    }

    /// <summary>Puts raw bytes on a queue as a MassTransit message would arrive (persistent, MassTransit's JSON content type).</summary>
    public static async Task PublishRawAsync(PipelineScope scope, string queue, byte[] body)
    {
        await using var connection = await scope.Servers.RabbitMq.ConnectionFactory(scope.VirtualHost).CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var properties = new BasicProperties { ContentType = "application/vnd.masstransit+json", Persistent = true, MessageId = Guid.NewGuid().ToString() };
        await channel.BasicPublishAsync("", queue, mandatory: true, properties, body);
    }

    /// <summary>The failure record written for <paramref name="source"/> at <paramref name="stage"/> in the scope's output bucket, or null.</summary>
    public static async Task<FailureRecord?> FailureRecordAsync(IObjectStore store, PipelineScope scope, PipelineStage stage, ObjectRef source)
    {
        var key = BucketLayout.FailureRecord(stage, source);
        return await store.TryStatAsync(scope.OutputBucket, key) is null
            ? null
            : JsonSerializer.Deserialize<FailureRecord>(await store.GetBytesAsync(scope.OutputBucket, key), ContractJson.Options);
    }

    /// <summary>Waits for the failure record of <paramref name="source"/> (in <paramref name="store"/>, else the scope's store).</summary>
    public static async Task<FailureRecord> WaitForFailureRecordAsync(PipelineScope scope, PipelineStage stage, ObjectRef source, TimeSpan timeout, IObjectStore? store = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await FailureRecordAsync(store ?? scope.Store, scope, stage, source) is { } record) return record;
            if (clock.Elapsed > timeout) throw new TimeoutException($"no {stage} failure record for {source.Key} after {timeout.TotalSeconds:F0} s");
            await Task.Delay(250);
        }
    }

    /// <summary>Waits until a process logged a line containing <paramref name="text"/>.</summary>
    public static async Task WaitForLineAsync(ServiceProcess process, string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!process.Lines.Any(l => l.Contains(text, StringComparison.Ordinal)))
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"{process.Name} logged no line with \"{text}\" in {timeout.TotalSeconds:F0} s");
            await Task.Delay(250);
        }
    }

    /// <summary>A TCP port nobody listens on now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string Invariant(this TimeSpan span) => span.ToString("c", CultureInfo.InvariantCulture);
}

/// <summary>
/// An s3rver of the test's own (infra/test-servers' patched install) on a free port with its own folder, so a test can
/// take the store away and bring it back (same port, same data) without disturbing the shared one.
/// </summary>
internal sealed class PrivateS3Server : IAsyncDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("it-s3rver-").FullName;
    private Process? _process;

    private readonly S3StorageOptions _credentials;

    private PrivateS3Server(int port, S3StorageOptions credentials) => (Port, _credentials) = (port, credentials);

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>Starts one that accepts the key pair of <paramref name="credentials"/> (the shared servers' random one).</summary>
    public static async Task<PrivateS3Server> StartAsync(S3StorageOptions credentials)
    {
        var server = new PrivateS3Server(FaultServers.FreePort(), credentials);
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts it (again) on the same port and folder and waits until it answers.</summary>
    public async Task StartAgainAsync()
    {
        var script = Path.Combine(SampleData.DataFolder, "..", "..", "infra", "test-servers", "node_modules", "s3rver", "bin", "s3rver.js");
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { script, "--directory", _folder, "--address", "127.0.0.1", "--port", Port.ToString(CultureInfo.InvariantCulture), "--silent", "--no-vhost-buckets" })
            start.ArgumentList.Add(argument);
        start.Environment["NODE_OPTIONS"] = "--openssl-legacy-provider";
        start.Environment["S3RVER_ACCESS_KEY_ID"] = _credentials.AccessKey; // see infra/test-servers/patches
        start.Environment["S3RVER_SECRET_ACCESS_KEY"] = _credentials.SecretKey;
        _process = Process.Start(start) ?? throw new InvalidOperationException("s3rver did not start");
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException) when (clock.Elapsed < TimeSpan.FromSeconds(30) && !_process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Takes it away at once (SIGKILL): connections are refused until <see cref="StartAgainAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_process is null) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Directory.Delete(_folder, recursive: true);
    }
}
