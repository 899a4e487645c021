using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Pipeline.Contracts;
using Pipeline.Dicom;
using Pipeline.Storage;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Pipeline.Faults;

/// <summary>One series of the fault tests' input: its UIDs and its files (name, bytes) in slice order.</summary>
public sealed record FaultSeries(string StudyInstanceUid, string SeriesInstanceUid, IReadOnlyList<(string Name, byte[] Bytes)> Files)
{
    public string Prefix(int index) => $"faults/s{index:D2}/";
}

/// <summary>
/// What the fault tests share: their input (<see cref="SeriesCount"/> small series with UIDs of their own), ingest,
/// denoise workers and evaluation as separate processes on one <see cref="PipelineScope"/> (killed, replaced and
/// restarted by the tests), and the end state every fault must leave: each series done exactly once, its outputs
/// byte-identical to a fault-free run of the same input, no failure record, every queue drained.
/// </summary>
public sealed class FaultRun(PipelineScope scope, ITestOutputHelper output) : IAsyncDisposable
{
    public const string ModelVersion = "denoiser/1";
    public const int SeriesCount = 20;
    public const int Slices = 4;

    /// <summary>Startup of a service process (model fetch, bus connection) on a loaded 2-core machine.</summary>
    public static readonly TimeSpan Startup = TimeSpan.FromSeconds(90);

    private static readonly Lazy<IReadOnlyList<FaultSeries>> LazyInput = new(MakeInput);
    private static Task<SortedDictionary<string, byte[]>>? _reference;
    private static readonly Lock ReferenceLock = new();

    private readonly List<ServiceProcess> _processes = [];
    private int _started;

    public PipelineScope Scope => scope;

    /// <summary>Every process started in this run, killed ones included, in start order.</summary>
    public IReadOnlyList<ServiceProcess> Processes => _processes;

    /// <summary>
    /// The input: 20 series of 4 slices, each a slab of the noisy sample series with a Study, Series and SOP Instance
    /// UIDs of its own (drawn from a fixed seed: the same bytes in every run, so one fault-free reference serves all).
    /// </summary>
    public static IReadOnlyList<FaultSeries> Input => LazyInput.Value;

    private static List<FaultSeries> MakeInput()
    {
        var random = new Random(22);
        string Uid() => "2.25." + new UInt128((ulong)random.NextInt64(), (ulong)random.NextInt64()).ToString(CultureInfo.InvariantCulture);
        var sample = PipelineScope.SampleSeries("t1-noisy", 16);
        var series = new List<FaultSeries>();
        for (var s = 0; s < SeriesCount; s++)
        {
            var (study, uid) = (Uid(), Uid());
            var files = new List<(string, byte[])>();
            foreach (var path in sample.Skip(s % (sample.Length / Slices) * Slices).Take(Slices))
            {
                var file = DicomFile.Open(path);
                file.Dataset.SetString(DicomTags.StudyInstanceUID, study).SetString(DicomTags.SeriesInstanceUID, uid).SetString(DicomTags.SOPInstanceUID, Uid());
                using var bytes = new MemoryStream();
                file.Save(bytes);
                files.Add((Path.GetFileName(path), bytes.ToArray()));
            }
            series.Add(new FaultSeries(study, uid, files));
        }
        return series;
    }

    /// <summary>
    /// Settings of one service process: the scope's, each service slot with its own model cache (a replacement reuses
    /// the killed process' cache, as a restarted container keeps its volume), workers holding one job at a time
    /// (prefetch 1) on a 1-thread engine, as two workers on a small machine would.
    /// </summary>
    public Dictionary<string, string?> Settings(string slot)
    {
        var settings = scope.Settings();
        settings["ModelRegistry:CacheFolder"] = Path.Combine(scope.CacheFolder, slot);
        settings["Bus:PrefetchCount"] = "1";
        settings["DenoiseWorker:ConcurrentJobs"] = "1";
        settings["DenoiseWorker:Engine:Threads"] = "1";
        // A publish lost in a broker restart is given up after 5 s (default 30 s) and retried: the test does not wait long.
        settings["Bus:PublishTimeout"] = "00:00:05";
        return settings;
    }

    /// <summary>Starts a service ("ingest", "worker-1"...: the slot names its cache) and waits until it is ready.</summary>
    public async Task<ServiceProcess> StartAsync(string slot, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var project = slot switch
        {
            "ingest" => "Pipeline.Ingest",
            "evaluation" => "Pipeline.Evaluation",
            _ when slot.StartsWith("worker", StringComparison.Ordinal) => "Pipeline.DenoiseWorker",
            _ => throw new ArgumentException($"no service for slot {slot}", nameof(slot)),
        };
        var process = ServiceProcess.Start($"{slot}#{Interlocked.Increment(ref _started)}", project, settings ?? Settings(slot));
        lock (_processes) _processes.Add(process);
        await process.WaitReadyAsync(Startup);
        return process;
    }

    /// <summary>SIGKILLs a service and starts its replacement in the same slot (same settings and cache); completes when the replacement is ready.</summary>
    public async Task<ServiceProcess> KillAndReplaceAsync(ServiceProcess victim)
    {
        await victim.KillAsync(TimeSpan.FromSeconds(10));
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} SIGKILL {victim.Name}");
        return await StartAsync(victim.Name.Split('#')[0]);
    }

    /// <summary>
    /// Kills the processes of some slots <paramref name="kills"/> times, each victim a seeded random slot, killed a random
    /// 0.3-2 s after it became ready (so it is mid-job while jobs wait) and replaced at once; the other slots work on
    /// meanwhile; <paramref name="killed"/> hears the count after each kill. Returns when the last replacement is ready,
    /// with the kill times.
    /// </summary>
    public async Task<List<DateTimeOffset>> KillRepeatedlyAsync(IReadOnlyList<ServiceProcess> victims, int kills, int seed, Action<int>? killed = null)
    {
        var random = new Random(seed);
        var slots = victims.Select(Task.FromResult).ToArray();
        var times = new List<DateTimeOffset>();
        while (times.Count < kills)
        {
            var slot = random.Next(slots.Length);
            var victim = await slots[slot];
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(300, 2000)));
            times.Add(DateTimeOffset.UtcNow);
            slots[slot] = KillAndReplaceAsync(victim);
            killed?.Invoke(times.Count);
        }
        await Task.WhenAll(slots);
        return times;
    }

    /// <summary>
    /// Waits until the processes of slots starting with <paramref name="slot"/> ("worker" is both workers; killed ones
    /// count) logged at least <paramref name="count"/> lines holding <paramref name="text"/>; returns how many they have.
    /// </summary>
    public async Task<int> WaitForLogAsync(string slot, string text, int count)
    {
        var deadline = Stopwatch.StartNew();
        int seen;
        while ((seen = LogCount(slot, text)) < count)
        {
            if (deadline.Elapsed > Startup) throw new TimeoutException($"{slot} logged {seen} lines with \"{text}\", waited for {count}");
            await Task.Delay(20);
        }
        return seen;
    }

    private int LogCount(string slot, string text)
    {
        lock (_processes)
            return _processes.Where(p => p.Name.StartsWith(slot, StringComparison.Ordinal))
                .Sum(p => p.Lines.Count(l => l.Contains(text, StringComparison.Ordinal)));
    }

    /// <summary>
    /// Uploads the input, one series after the other with <paramref name="pause"/> between series (their quiet periods then
    /// end apart); each series waits for <paramref name="before"/> (given its index) first when there is one.
    /// </summary>
    public async Task DropAsync(TimeSpan pause, Func<int, Task>? before = null)
    {
        for (var s = 0; s < Input.Count; s++)
        {
            if (before is not null) await before(s);
            var prefix = Input[s].Prefix(s);
            await Parallel.ForEachAsync(Input[s].Files, async (f, _) => await scope.DropAsync(prefix + f.Name, f.Bytes));
            if (pause > TimeSpan.Zero) await Task.Delay(pause);
        }
    }

    /// <summary>Series whose evaluation report exists: the last output of a series.</summary>
    public async Task<int> ReportedAsync()
    {
        var keys = (await scope.KeysAsync(scope.OutputBucket, "studies/")).ToHashSet(StringComparer.Ordinal);
        return Input.Count(s => keys.Contains(BucketLayout.Report(s.StudyInstanceUid, s.SeriesInstanceUid, ModelVersion)));
    }

    /// <summary>Waits until every series has its report, then until every queue of the scope is drained.</summary>
    public async Task WaitDoneAsync(TimeSpan timeout, TestServers? servers = null)
    {
        var deadline = Stopwatch.StartNew();
        while (await ReportedAsync() < Input.Count)
        {
            if (deadline.Elapsed > timeout)
                throw new TimeoutException($"{await ReportedAsync()} of {Input.Count} series reported after {timeout.TotalSeconds:F0} s");
            await Task.Delay(500);
        }
        // At-least-once: a redelivered copy of a done job may still be on its way to "acknowledged without work".
        while (QueuesNotDrained(await QueuesAsync(servers ?? scope.Servers)) is { Count: > 0 } busy)
        {
            if (deadline.Elapsed > timeout)
                throw new TimeoutException($"queues not drained after {timeout.TotalSeconds:F0} s: {string.Join(", ", busy)}");
            await Task.Delay(500);
        }
    }

    /// <summary>Each queue of the scope's virtual host: (name, ready, unacknowledged), as rabbitmqctl lists them.</summary>
    public async Task<List<(string Name, long Ready, long Unacked)>> QueuesAsync(TestServers servers)
    {
        var listing = await servers.RabbitMqCtlAsync("list_queues", "-p", scope.VirtualHost, "--quiet", "--no-table-headers",
            "name", "messages_ready", "messages_unacknowledged");
        return listing.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('\t'))
            .Select(f => (f[0], long.Parse(f[1], CultureInfo.InvariantCulture), long.Parse(f[2], CultureInfo.InvariantCulture)))
            .ToList();
    }

    private static List<string> QueuesNotDrained(IEnumerable<(string Name, long Ready, long Unacked)> queues) =>
        queues.Where(q => q.Ready + q.Unacked > 0).Select(q => $"{q.Name} ({q.Ready} ready, {q.Unacked} unacked)").ToList();

    /// <summary>
    /// The end state every fault must leave: each series done exactly once (one marker, revision 1, every instance, no
    /// failure; exactly the marker's derived objects, nothing else written), its report present, every derived object
    /// byte-identical to the fault-free reference, no failure record, and no queue holding a message (no error queue
    /// either: a message in one would be a job that failed).
    /// </summary>
    public async Task AssertDoneExactlyOnceAsync(TestServers servers)
    {
        var reference = await ReferenceAsync(servers, output);
        var all = await scope.ReadAllAsync(scope.OutputBucket);
        Assert.DoesNotContain(all.Keys, BucketLayout.IsFailureRecord);
        var derived = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var series in Input)
        {
            var folder = BucketLayout.SeriesOutputFolder(series.StudyInstanceUid, series.SeriesInstanceUid, ModelVersion);
            var marker = JsonSerializer.Deserialize<SeriesCompletion>(all[BucketLayout.CompletionMarker(series.StudyInstanceUid, series.SeriesInstanceUid, ModelVersion)])!;
            Assert.Equal((series.SeriesInstanceUid, 1, Slices, 0), (marker.SeriesInstanceUid, marker.Revision, marker.Instances.Count, marker.FailedInstances.Count));
            var instances = all.Keys.Where(k => k.StartsWith(BucketLayout.DerivedInstancesFolder(series.StudyInstanceUid, series.SeriesInstanceUid, ModelVersion), StringComparison.Ordinal));
            Assert.Equal(marker.Instances.Select(i => i.Derived.Key).Order(StringComparer.Ordinal), instances);
            Assert.Contains(BucketLayout.Report(series.StudyInstanceUid, series.SeriesInstanceUid, ModelVersion), all.Keys);
            Assert.Single(all.Keys, k => k.StartsWith(folder, StringComparison.Ordinal) && BucketLayout.IsCompletionMarker(k));
            foreach (var key in instances) derived[key] = all[key];
        }
        Assert.Equal(reference.Keys, derived.Keys);
        Assert.All(reference, r => Assert.True(r.Value.AsSpan().SequenceEqual(derived[r.Key]), $"{r.Key} differs from the fault-free run"));
        var queues = await QueuesAsync(servers);
        Assert.Empty(QueuesNotDrained(queues));
        Assert.DoesNotContain(queues, q => q.Name.EndsWith("_error", StringComparison.Ordinal));
    }

    /// <summary>
    /// The fault-free reference, made once per test run: the same input through the same services (their own
    /// registrations, in this process: one host, no faults) on a scope of its own; its derived objects by key (keys depend
    /// only on UIDs and model version, not on buckets).
    /// </summary>
    public static Task<SortedDictionary<string, byte[]>> ReferenceAsync(TestServers servers, ITestOutputHelper output)
    {
        lock (ReferenceLock)
            return _reference ??= MakeReferenceAsync(servers, output);
    }

    private static async Task<SortedDictionary<string, byte[]>> MakeReferenceAsync(TestServers servers, ITestOutputHelper output)
    {
        await using var scope = await PipelineScope.CreateAsync(servers);
        await using var pipeline = await PipelineHost.StartAsync(scope, output);
        var run = new FaultRun(scope, output);
        await run.DropAsync(TimeSpan.Zero);
        await run.WaitDoneAsync(TimeSpan.FromMinutes(3));
        var all = await scope.ReadAllAsync(scope.OutputBucket, "studies/");
        return new SortedDictionary<string, byte[]>(all.Where(a => a.Key.Contains("/instances/", StringComparison.Ordinal)).ToDictionary(), StringComparer.Ordinal);
    }

    /// <summary>Writes each process' log to the test output and kills what is still running.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            foreach (var line in process.Lines) output.WriteLine($"[{process.Name}] {line}");
            await process.DisposeAsync();
        }
    }
}

/// <summary>
/// A RabbitMQ and S3 server of one test's own (infra/test-servers/start.sh with PIPELINE_TEST_SERVERS_DIR in a temp
/// folder), for a test that stops and restarts a server: the shared ones serve other tests meanwhile.
/// </summary>
public sealed class PrivateServers : IAsyncDisposable
{
    private readonly string _state;

    private PrivateServers(string state, TestServers servers)
    {
        _state = state;
        Servers = servers;
    }

    public TestServers Servers { get; }

    /// <summary>The broker's log files.</summary>
    public string BrokerLogFolder => Path.Combine(_state, "rabbitmq", "log");

    public static async Task<PrivateServers> StartAsync()
    {
        var state = Directory.CreateTempSubdirectory("it-servers-").FullName;
        await ScriptAsync(state, "start.sh");
        return new PrivateServers(state, await TestServers.LoadAsync(Path.Combine(state, "settings.json")));
    }

    /// <summary>Stops the broker (SIGTERM: an orderly shutdown, as a host restart or an upgrade does).</summary>
    public Task StopBrokerAsync() => ScriptAsync(_state, "stop.sh", "rabbitmq");

    /// <summary>Starts the broker again on its data dir and ports: its durable queues and persistent messages come back.</summary>
    public Task StartBrokerAsync() => ScriptAsync(_state, "start.sh", keepData: true);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Servers.DisposeAsync();
        }
        finally
        {
            await ScriptAsync(_state, "stop.sh");
            Directory.Delete(_state, recursive: true);
        }
    }

    private static async Task ScriptAsync(string state, string script, string? argument = null, bool keepData = false)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.GetFullPath(Path.Combine(SampleData.DataFolder, "..", "..", "infra", "test-servers", script)));
        if (argument is not null) start.ArgumentList.Add(argument);
        start.Environment["PIPELINE_TEST_SERVERS_DIR"] = state;
        if (keepData) start.Environment["PIPELINE_TEST_RABBITMQ_KEEP_DATA"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{script} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{script} {argument} exited {process.ExitCode}: {await stderr}{await stdout}");
    }
}
