using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Pipeline.Testing;

/// <summary>
/// One service executable (services/Pipeline.X, as built next to this test project) running as its own OS process,
/// configured only through environment variables as in a deployment; its console log is kept for the test (or benchmark).
/// </summary>
public sealed partial class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServiceProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    /// <summary>"ingest", "worker-1"...: how the test names this process.</summary>
    public string Name { get; }

    public IReadOnlyCollection<string> Lines => _lines;

    public bool HasExited => _process.HasExited;

    /// <summary>The service's OS process id (a launcher such as taskset execs it, so the id stays the same).</summary>
    public int Id => _process.Id;

    /// <summary>
    /// Starts services/{project}/bin/{configuration}/.../{project}.dll with `dotnet`, in its own folder (its content
    /// root, where its appsettings.json is), with <paramref name="settings"/> as environment variables ("Bus:Transport"
    /// becomes Bus__Transport) and Kestrel on a free loopback port. <paramref name="launcher"/> (e.g. taskset -c 1) runs
    /// `dotnet` under a command that execs it.
    /// </summary>
    public static ServiceProcess Start(string name, string project, IReadOnlyDictionary<string, string?> settings, IReadOnlyList<string>? launcher = null)
    {
        var dll = BuiltAssembly(project);
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var command = (launcher ?? []).Append(dotnet).ToList();
        var start = new ProcessStartInfo(command[0])
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in command.Skip(1)) start.ArgumentList.Add(argument);
        start.ArgumentList.Add(dll);
        foreach (var (key, value) in settings)
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        start.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        start.Environment["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ";
        if (!settings.ContainsKey("Logging:LogLevel:MassTransit")) start.Environment["Logging__LogLevel__MassTransit"] = "Warning";

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var service = new ServiceProcess(name, process);
        process.OutputDataReceived += (_, e) => service.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => service.OnLine(e.Data);
        process.Exited += (_, _) => service._listening.TrySetException(new InvalidOperationException($"{name} exited before it listened"));
        if (!process.Start()) throw new InvalidOperationException($"{name} did not start");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary>Where the service's web host listens (its health and /metrics endpoints), once it does.</summary>
    public Task<Uri> Address => _listening.Task;

    /// <summary>Waits until /health/ready answers 200 (the bus is connected and every check is healthy).</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        var address = await _listening.Task.WaitAsync(cancel.Token);
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(new Uri("/health/ready", UriKind.Relative), cancel.Token);
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancel.IsCancellationRequested)
            {
            }
            await Task.Delay(200, cancel.Token);
        }
    }

    /// <summary>Sends SIGTERM (what `docker stop` and Kubernetes send) and returns the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
            ExternalTool.Ok("kill", "-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    /// <summary>Sends SIGKILL (a crash, an OOM kill, a lost host: no shutdown code runs) and waits until the process is gone.</summary>
    public async Task KillAsync(TimeSpan timeout)
    {
        if (!_process.HasExited) _process.Kill();
        await _process.WaitForExitAsync().WaitAsync(timeout);
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        _lines.Enqueue(line);
        if (ListeningLine().Match(line) is { Success: true } match)
            _listening.TrySetResult(new Uri(match.Groups[1].Value));
    }

    /// <summary>The build output of {folder}/{project}, in the calling assembly's configuration (Debug or Release).</summary>
    public static string BuiltAssembly(string project, string folder = "services", string? assemblyName = null)
    {
        assemblyName ??= project;
        var testFolder = AppContext.BaseDirectory;
        var configuration = testFolder.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var root = Path.GetFullPath(Path.Combine(SampleData.DataFolder, "..", ".."));
        var dll = Directory.EnumerateFiles(Path.Combine(root, folder, project, "bin", configuration), assemblyName + ".dll", SearchOption.AllDirectories)
            .OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault();
        return dll ?? throw new FileNotFoundException($"{assemblyName}.dll is not built under {folder}/{project}/bin/{configuration} (build this test project: it references that project)");
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();

    /// <summary>Kills a process the test did not stop (a failed test), so nothing outlives the run.</summary>
    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
