using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Pipeline.Cli.Tests;

/// <summary>
/// Ctrl+C (SIGINT) or SIGTERM stops `pipeline run` promptly, with exit 130, leaving only whole outputs: a series is
/// either complete (its marker and every instance it lists) or absent, and a rerun finishes what was left.
/// </summary>
public sealed class InterruptTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task A_signal_stops_the_run_within_seconds_and_a_rerun_completes_it(string signal)
    {
        // Colin27 (181 slices) on one engine thread: long enough to be interrupted mid-series on any machine.
        var input = Path.Combine(_dir.Path, "in");
        var make = PipelineCli.Run("samples", "make", "/usr/share/mricron/templates/ch2.nii.gz", Path.Combine(input, "colin", "t1"));
        Assert.True(make.ExitCode == 0, make.Stdout + make.Stderr);
        var output = Path.Combine(_dir.Path, "out");

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "pipeline.dll"), "run", input, "--out", output }) start.ArgumentList.Add(a);
        start.Environment["DenoiseWorker__Engine__Threads"] = "1";
        using var run = Process.Start(start)!;
        var text = new StringBuilder();
        var started = new TaskCompletionSource();
        run.OutputDataReceived += (_, e) =>
        {
            lock (text) text.AppendLine(e.Data);
            if (e.Data?.StartsWith("input ", StringComparison.Ordinal) == true) started.TrySetResult();
        };
        run.ErrorDataReceived += (_, e) => { lock (text) text.AppendLine(e.Data); };
        run.BeginOutputReadLine();
        run.BeginErrorReadLine();
        await started.Task.WaitAsync(TimeSpan.FromMinutes(1));
        await Task.Delay(TimeSpan.FromSeconds(2)); // the series is fetched, decoded or being denoised now
        Assert.False(run.HasExited, $"the run ended before it could be interrupted:\n{text}");

        var signalled = Stopwatch.StartNew();
        using (var kill = Process.Start("kill", ["-" + signal, run.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
        var stopped = await Task.Run(() => run.WaitForExit(TimeSpan.FromSeconds(20)));
        if (!stopped) run.Kill(entireProcessTree: true);
        Assert.True(stopped, $"still running 20 s after SIG{signal}:\n{text}");
        run.WaitForExit(); // flush the output
        Assert.True(run.ExitCode == 130, $"exit {run.ExitCode} after SIG{signal} ({signalled.Elapsed.TotalSeconds:F1} s):\n{text}");
        Assert.Contains("stopped", text.ToString());

        AssertOnlyWholeSeries(output);
        Assert.Empty(Directory.GetFiles(Path.Combine(output, ".pipeline", ".tmp"))); // no write left half-done
        if (signal != "INT") return; // one rerun is proof enough

        var rerun = PipelineCli.Run("run", input, "--out", output);
        Assert.True(rerun.ExitCode == 0, rerun.Stdout + rerun.Stderr);
        Assert.Contains("1 series done, 0 failed objects, 0 input objects pending", rerun.Stdout);
        AssertOnlyWholeSeries(output);
    }

    /// <summary>
    /// Every completion marker's derived instances exist, and every derived file is a whole DICOM instance (instances of a
    /// series without its marker may remain: the marker, written last, is what makes a series done).
    /// </summary>
    private static void AssertOnlyWholeSeries(string output)
    {
        foreach (var marker in Directory.GetFiles(output, "complete.json", SearchOption.AllDirectories))
        {
            foreach (var instance in JsonDocument.Parse(File.ReadAllText(marker)).RootElement.GetProperty("Instances").EnumerateArray())
            {
                var key = instance.GetProperty("Derived").GetProperty("Key").GetString()!;
                Assert.True(File.Exists(Path.Combine(output, key)), $"{marker} lists {key}, which is missing");
            }
        }
        var studies = Path.Combine(output, "studies");
        if (!Directory.Exists(studies)) return;
        foreach (var file in Directory.GetFiles(studies, "*.dcm", SearchOption.AllDirectories))
            Assert.True(Pipeline.Dicom.DicomFile.Open(file).GetPixelData().FrameCount == 1, file);
    }
}
