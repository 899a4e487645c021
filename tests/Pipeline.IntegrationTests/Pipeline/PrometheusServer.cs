using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Pipeline.IntegrationTests.Pipeline;

/// <summary>
/// Debian's Prometheus (infra/apt-packages.txt) on a free loopback port, scraping the given targets every second with the
/// product's alert rules loaded (evaluated every second), in a private data folder; killed and removed on dispose.
/// </summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _folder;
    private readonly StringBuilder _log = new();

    private PrometheusServer(Process process, string folder, Uri address)
    {
        _process = process;
        _folder = folder;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
    }

    public HttpClient Http { get; }

    /// <summary>The repository's infra/compose folder (rules and dashboards).</summary>
    public static string ComposeFolder => Path.GetFullPath(Path.Combine(SampleData.DataFolder, "..", "..", "infra", "compose"));

    /// <summary>Starts it scraping <paramref name="jobs"/> (job name -> host:port targets) and waits until it is ready.</summary>
    public static async Task<PrometheusServer> StartAsync(IReadOnlyDictionary<string, string[]> jobs, TimeSpan timeout)
    {
        var folder = Directory.CreateTempSubdirectory("it-prometheus-").FullName;
        var config = new StringBuilder()
            .AppendLine("global: { scrape_interval: 1s, evaluation_interval: 1s }")
            .AppendLine(CultureInfo.InvariantCulture, $"rule_files: [\"{Path.Combine(ComposeFolder, "prometheus", "alerts.yml")}\"]")
            .AppendLine("scrape_configs:");
        foreach (var (job, targets) in jobs)
            config.AppendLine(CultureInfo.InvariantCulture, $"  - {{ job_name: {job}, static_configs: [{{ targets: [{string.Join(", ", targets.Select(t => $"\"{t}\""))}] }}] }}");
        await File.WriteAllTextAsync(Path.Combine(folder, "prometheus.yml"), config.ToString());

        var address = new Uri($"http://127.0.0.1:{Faults.FaultServers.FreePort()}");
        var start = new ProcessStartInfo("prometheus") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[]
                 {
                     "--config.file=" + Path.Combine(folder, "prometheus.yml"), "--storage.tsdb.path=" + Path.Combine(folder, "data"),
                     $"--web.listen-address={address.Host}:{address.Port}", "--log.level=warn",
                 })
            start.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"prometheus is not installed (see infra/apt-packages.txt): {e.Message}");
        }
        var server = new PrometheusServer(process, folder, address);
        process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException("prometheus exited:\n" + server.Log);
            try
            {
                using var ready = await server.Http.GetAsync(new Uri("/-/ready", UriKind.Relative));
                if (ready.IsSuccessStatusCode) return server;
            }
            catch (HttpRequestException)
            {
            }
            if (clock.Elapsed > timeout)
            {
                await server.DisposeAsync();
                throw new TimeoutException($"prometheus not ready in {timeout.TotalSeconds:F0} s");
            }
            await Task.Delay(200);
        }
    }

    public string Log
    {
        get
        {
            lock (_log) return _log.ToString();
        }
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
    }

    /// <summary>An instant query through the HTTP API: the samples (labels as text, value), or throws with Prometheus' error.</summary>
    public async Task<IReadOnlyList<(string Labels, double Value)>> QueryAsync(string promql)
    {
        using var response = await Http.GetAsync(new Uri("/api/v1/query?query=" + Uri.EscapeDataString(promql), UriKind.Relative));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = body.RootElement;
        if (root.GetProperty("status").GetString() != "success")
            throw new InvalidOperationException($"query {promql} failed: {root.GetProperty("error").GetString()}");
        var data = root.GetProperty("data");
        if (data.GetProperty("resultType").GetString() != "vector") return [(data.GetProperty("resultType").GetString()!, double.NaN)];
        return data.GetProperty("result").EnumerateArray()
            .Select(r => (r.GetProperty("metric").ToString(), double.Parse(r.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)))
            .ToList();
    }

    /// <summary>Waits until <paramref name="promql"/> returns at least one finite sample; returns them.</summary>
    public async Task<IReadOnlyList<(string Labels, double Value)>> WaitForDataAsync(string promql, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var samples = await QueryAsync(promql);
            if (samples.Any(s => double.IsFinite(s.Value))) return samples;
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"no data from {promql} in {timeout.TotalSeconds:F0} s (last answer: {string.Join("; ", samples)})");
            await Task.Delay(500);
        }
    }

    /// <summary>The alerts Prometheus holds now: name and state (pending or firing) with their labels.</summary>
    public async Task<IReadOnlyList<(string Name, string State, string Labels)>> AlertsAsync()
    {
        using var body = JsonDocument.Parse(await Http.GetStringAsync(new Uri("/api/v1/alerts", UriKind.Relative)));
        return body.RootElement.GetProperty("data").GetProperty("alerts").EnumerateArray()
            .Select(a => (a.GetProperty("labels").GetProperty("alertname").GetString()!, a.GetProperty("state").GetString()!, a.GetProperty("labels").ToString()))
            .ToList();
    }

    /// <summary>Every alerting rule loaded from the rules file: name and expression.</summary>
    public async Task<IReadOnlyList<(string Name, string Expression)>> AlertRulesAsync()
    {
        using var body = JsonDocument.Parse(await Http.GetStringAsync(new Uri("/api/v1/rules?type=alert", UriKind.Relative)));
        return body.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray()
            .SelectMany(g => g.GetProperty("rules").EnumerateArray())
            .Select(r => (r.GetProperty("name").GetString()!, r.GetProperty("query").GetString()!))
            .ToList();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited) _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
