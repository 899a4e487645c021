using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Pipeline.Contracts;
using Pipeline.Hosting;
using static Pipeline.IntegrationTests.Pipeline.Faults.FaultServers;

namespace Pipeline.IntegrationTests.Pipeline;

public sealed partial class DistributedPipelineTests
{
    /// <summary>
    /// Telemetry reaches a real back end: Debian's Prometheus scrapes /metrics of ingest, a worker and evaluation running
    /// as processes through a run with two series, a corrupt object (ingest failure), a job naming objects that are gone
    /// (denoise failures), a poison message (error queue) and a batch over the dropped series. Then every query of every
    /// provisioned Grafana dashboard returns data through the HTTP API; every alert rule is loaded and every metric it reads is served; the error-queue
    /// alert fires, and the service-down alerts go pending when the worker is killed. `pipeline trace STUDY_UID` prints
    /// the trace id the services exported the study's spans under (checked in the OTLP they sent).
    /// </summary>
    [Fact]
    public async Task Requirement_Prometheus_scraping_a_run_answers_every_dashboard_query_and_alert_and_the_alerts_fire_in_their_faults()
    {
        using var otlp = new OtlpRecorder();
        var settings = _scope.Settings();
        settings["Bus:QueueDepthInterval"] = "00:00:01";
        settings["Ingest:BatchPollInterval"] = "00:00:00.200";
        settings["Ingest:BatchDeadline"] = "08:00:00";
        otlp.ExportTo(settings);
        List<ServiceProcess> processes = [];
        try
        {
            processes = await StartAsync(("ingest", "Pipeline.Ingest", settings), ("worker", "Pipeline.DenoiseWorker", Worker(_scope, settings, "worker")),
                ("evaluation", "Pipeline.Evaluation", settings));
            async Task<string[]> Target(string name) => [(await processes.Single(p => p.Name == name).Address).Authority];
            await using var prometheus = await PrometheusServer.StartAsync(new Dictionary<string, string[]>
            {
                ["ingest"] = await Target("ingest"), ["denoise-worker"] = await Target("worker"), ["evaluation"] = await Target("evaluation"),
            }, TimeSpan.FromSeconds(30));
            await using var observer = await RecorderBus.StartAsync(_scope);
            var wait = TimeSpan.FromSeconds(30);

            // Two series, the second after the first one's histograms were scraped, so rates over them see an increase.
            await _scope.DropAsync("drop/telemetry/t1/", PipelineScope.SampleSeries("t1", 3));
            await observer.Recorder.WaitForAsync<EvaluationCompleted>(1, Patience);
            await prometheus.WaitForDataAsync("pipeline_evaluation_fidelity_ssim_bucket", wait);
            await prometheus.WaitForDataAsync("pipeline_denoise_series_latency_seconds_bucket", wait);
            await _scope.DropAsync("drop/telemetry/t1-noisy/", PipelineScope.SampleSeries("t1-noisy", 3));
            await _scope.DropAsync("drop/telemetry/t1-noisy/corrupt.dcm", Encoding.ASCII.GetBytes("DICM? no: a corrupt object"));
            await observer.Recorder.WaitForAsync<EvaluationCompleted>(2, Patience);
            var job = observer.Recorder.All<DenoiseSeries>()[0];
            var jobs = await observer.Bus.GetSendEndpoint(new Uri("exchange:" + PipelineQueues.DenoiseJobs));
            await jobs.Send(job with { SeriesInstanceUid = job.SeriesInstanceUid + ".93", Instances = [new(_scope.InputBucket, "gone/1.dcm")], SourceFingerprint = "gone" });
            await PublishRawAsync(_scope, PipelineQueues.DenoiseJobs, Encoding.UTF8.GetBytes("{ \"message\": not json"));
            await observer.Recorder.WaitForAsync<SeriesNotDenoisable>(1, Patience);
            await WaitForDepthAsync(_scope, PipelineQueues.ErrorQueue(PipelineQueues.DenoiseJobs), 1, Patience);
            // A batch over the dropped series (done already: counted from their markers) for the batch panels.
            var submit = Cli(settings, "submit", $"{_scope.InputBucket}/drop/telemetry/", "--batch", "telemetry-1");
            Assert.True(submit.ExitCode == 0, submit.Output);

            // Every panel's every query returns data.
            var clock = Stopwatch.StartNew();
            var queries = DashboardQueries().ToList();
            Assert.True(queries.Count >= 15, $"only {queries.Count} dashboard queries found");
            foreach (var (panel, expr) in queries)
            {
                var samples = await prometheus.WaitForDataAsync(expr, wait);
                output.WriteLine($"{panel}: {expr} -> {string.Join("; ", samples.Take(4))}");
            }

            // Every alert rule is loaded, evaluates, and every metric it reads is served; the error-queue alert fires.
            var rules = await prometheus.AlertRulesAsync();
            Assert.Equal(["BatchPastDeadline", "DenoiseWorkersAllDown", "ErrorQueueNotEmpty", "PipelineServiceDown", "ThroughputCollapsedWithBacklog"], rules.Select(r => r.Name).Order(StringComparer.Ordinal));
            foreach (var (name, expression) in rules)
            {
                await prometheus.QueryAsync(expression);
                foreach (var metric in MetricNames().Matches(expression).Select(m => m.Value).Distinct())
                    Assert.True((await prometheus.QueryAsync($"count({metric})")).Count > 0, $"{name} reads {metric}, which no target serves");
            }
            await WaitForAlertAsync(prometheus, "ErrorQueueNotEmpty", "firing", "denoise-series_error", wait);
            // The error queue has held its message since it was planted: its backlog age counts up (the work queue's stays 0).
            await prometheus.WaitForDataAsync("max(pipeline_queue_backlog_age_seconds{queue=\"denoise-series_error\"}) > 1", wait);
            Assert.Equal(0, Assert.Single(await prometheus.QueryAsync("max(pipeline_queue_backlog_age_seconds{queue=\"denoise-series\"})")).Value);
            Assert.DoesNotContain(await prometheus.AlertsAsync(), a => a.Name is "PipelineServiceDown" or "DenoiseWorkersAllDown" or "ThroughputCollapsedWithBacklog"
                or "BatchPastDeadline");

            // The study's trace id, as the tool prints it, is the one the services exported its spans under.
            var (exitCode, printed) = Cli(settings, "trace", job.StudyInstanceUid);
            Assert.Equal(0, exitCode);
            var traceId = Convert.FromHexString(printed.Trim());
            Assert.Contains(otlp.Bodies, b => b.Path == "/v1/traces" && b.Body.AsSpan().IndexOf(traceId) >= 0);

            // A killed worker: both service-down alerts see it (pending: their 2-minute "for" has not run out).
            await processes.Single(p => p.Name == "worker").KillAsync(TimeSpan.FromSeconds(10));
            await WaitForAlertAsync(prometheus, "PipelineServiceDown", "pending", "denoise-worker", wait);
            await WaitForAlertAsync(prometheus, "DenoiseWorkersAllDown", "pending", "", wait);
            output.WriteLine($"queries and alerts checked in {clock.Elapsed.TotalSeconds:F1} s");
        }
        finally
        {
            await DisposeAllAsync(processes);
        }
    }

    /// <summary>(panel title, query) of every target of every provisioned dashboard.</summary>
    private static IEnumerable<(string Panel, string Expr)> DashboardQueries()
    {
        var folder = Path.Combine(PrometheusServer.ComposeFolder, "grafana", "dashboards");
        foreach (var file in Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal))
        {
            using var dashboard = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
                foreach (var target in panel.GetProperty("targets").EnumerateArray())
                    yield return ($"{Path.GetFileNameWithoutExtension(file)} / {panel.GetProperty("title").GetString()}", target.GetProperty("expr").GetString()!);
        }
    }

    private static async Task WaitForAlertAsync(PrometheusServer prometheus, string name, string state, string labelText, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var alerts = await prometheus.AlertsAsync();
            if (alerts.Any(a => a.Name == name && a.State == state && a.Labels.Contains(labelText, StringComparison.Ordinal))) return;
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"alert {name} not {state} in {timeout.TotalSeconds:F0} s; alerts: {string.Join("; ", alerts)}");
            await Task.Delay(500);
        }
    }

    /// <summary>Metric names in a rule expression: ours, and Prometheus' own "up".</summary>
    [GeneratedRegex(@"\b(pipeline_[a-z_]+|up)\b(?=\s*[{\[)]|\s*==)")]
    private static partial Regex MetricNames();
}
