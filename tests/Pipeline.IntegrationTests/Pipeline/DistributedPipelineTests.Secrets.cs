using System.Security.Cryptography;
using System.Text;
using Pipeline.Contracts;

namespace Pipeline.IntegrationTests.Pipeline;

public sealed partial class DistributedPipelineTests
{
    /// <summary>
    /// Credentials never appear in logs, traces, metrics, failure records or exception messages. The test servers'
    /// secrets are drawn at random per start (infra/test-servers/start.sh), so finding one anywhere is a leak, not chance.
    /// The services run as processes at Debug level (MassTransit included) with OTLP export to a receiver in this test;
    /// the run has a good series and a corrupt object (a failure record), and two more ingests are started, one with a wrong
    /// broker password and one with a wrong storage key (authentication errors, whose messages must not quote the secrets).
    /// </summary>
    [Fact]
    public async Task Requirement_no_configured_secret_appears_in_any_log_line_exported_signal_or_bucket_document_of_a_run()
    {
        using var otlp = new OtlpRecorder();
        var settings = _scope.Settings();
        settings["Logging:LogLevel:Default"] = "Debug";
        settings["Logging:LogLevel:MassTransit"] = "Debug";
        otlp.ExportTo(settings);
        Dictionary<string, string?> Wrong(string key, string cache) => new(settings)
        {
            [key] = "wrong-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)),
            ["ModelRegistry:CacheFolder"] = Path.Combine(_scope.CacheFolder, cache),
        };
        var wrongBroker = Wrong("Bus:RabbitMq:Password", "wrong-broker");
        // s3rver does not check V4 signatures (a wrong secret alone passes), so this one's key id is unknown as well.
        var wrongStorage = Wrong("Storage:S3:SecretKey", "wrong-storage");
        wrongStorage["Storage:S3:AccessKey"] = "unknown-key-id";
        string[] secrets = [settings["Bus:RabbitMq:Password"]!, settings["Storage:S3:SecretKey"]!, wrongBroker["Bus:RabbitMq:Password"]!, wrongStorage["Storage:S3:SecretKey"]!];

        List<ServiceProcess> processes = [];
        try
        {
            processes.Add(ServiceProcess.Start("ingest", "Pipeline.Ingest", settings));
            processes.Add(ServiceProcess.Start("worker", "Pipeline.DenoiseWorker", settings));
            processes.Add(ServiceProcess.Start("evaluation", "Pipeline.Evaluation", settings));
            var refusedByBroker = ServiceProcess.Start("ingest-wrong-broker-password", "Pipeline.Ingest", wrongBroker);
            var refusedByStorage = ServiceProcess.Start("ingest-wrong-storage-secret", "Pipeline.Ingest", wrongStorage);
            processes.AddRange([refusedByBroker, refusedByStorage]);
            await Task.WhenAll(processes.Take(3).Select(p => p.WaitReadyAsync(TimeSpan.FromSeconds(90))));

            await using var observer = await RecorderBus.StartAsync(_scope);
            await _scope.DropAsync("drop/secrets/t1/", PipelineScope.SampleSeries("t1", 3));
            await _scope.DropAsync("drop/secrets/t1/corrupt.dcm", Encoding.ASCII.GetBytes("DICM? no: a corrupt object"));
            await observer.Recorder.WaitForAsync<EvaluationCompleted>(1, Patience);
            await observer.Recorder.WaitForAsync<InstanceFailed>(1, Patience);

            // The misconfigured ones were refused by now, with the errors an operator would read.
            Assert.Contains(refusedByBroker.Lines, l => l.Contains("ACCESS_REFUSED", StringComparison.Ordinal));
            Assert.Contains(refusedByStorage.Lines, l => l.Contains("InvalidAccessKeyId", StringComparison.Ordinal) || l.Contains("does not exist in our records", StringComparison.Ordinal));
            foreach (var process in processes)
                await process.StopAsync(TimeSpan.FromSeconds(45)); // exporters flush on shutdown

            // What was searched is real: every process logged, the receiver got traces, logs and metrics, the bucket has
            // the record; and the search finds a secret where one is planted.
            Assert.All(processes, p => Assert.NotEmpty(p.Lines));
            Assert.Equal(["/v1/logs", "/v1/metrics", "/v1/traces"], otlp.Paths);
            var documents = await _scope.ReadAllAsync(_scope.OutputBucket);
            Assert.Contains(documents.Keys, BucketLayout.IsFailureRecord);
            Assert.NotEmpty(Leaks(Encoding.UTF8.GetBytes($"planted: {secrets[1]}."), secrets));

            var leaks = processes.SelectMany(p => p.Lines.SelectMany(l => Leaks(Encoding.UTF8.GetBytes(l), secrets).Select(s => $"{p.Name} log: {l}")))
                .Concat(otlp.Bodies.SelectMany(b => Leaks(b.Body, secrets).Select(s => $"OTLP {b.Path}")))
                .Concat(documents.SelectMany(d => Leaks(d.Value, secrets).Select(s => $"bucket object {d.Key}")))
                .ToList();
            Assert.True(leaks.Count == 0, "secrets found in:\n" + string.Join('\n', leaks.Distinct().Take(20)));
        }
        finally
        {
            await DisposeAllAsync(processes);
        }
    }

    /// <summary>The secrets that occur in <paramref name="bytes"/>, as text or base64 (how a header would carry one).</summary>
    private static IEnumerable<string> Leaks(byte[] bytes, IEnumerable<string> secrets) =>
        secrets.Where(secret => bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) >= 0
            || bytes.AsSpan().IndexOf(Encoding.ASCII.GetBytes(Convert.ToBase64String(Encoding.UTF8.GetBytes(secret)))) >= 0);
}
