using System.Diagnostics;

namespace Pipeline.Cli.Tests;

/// <summary>Runs the real `pipeline` executable built next to the tests.</summary>
internal static class PipelineCli
{
    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args) => Run(TimeSpan.FromMinutes(5), args);

    /// <summary>Runs it and kills it (a TimeoutException) if it has not ended within <paramref name="timeout"/>.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "pipeline.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["COLUMNS"] = "200"; // tables are not wrapped at 80 columns when output is redirected
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"pipeline {string.Join(' ', args)} did not finish in {timeout}");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
