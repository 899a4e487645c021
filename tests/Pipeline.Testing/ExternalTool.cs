using System.Diagnostics;

namespace Pipeline.Testing;

/// <summary>Runs a Debian oracle tool (dcmtk, dicom3tools, GDCM, dcm2niix); a missing tool fails the test.</summary>
public static class ExternalTool
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    public static Result Run(string tool, params string[] args) => Run(TimeSpan.FromMinutes(1), tool, args);

    public static Result Run(TimeSpan timeout, string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try
        {
            return Run(psi, timeout);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{tool} is not installed (see infra/apt-packages.txt): {e.Message}");
        }
    }

    /// <summary>Runs any program to its end with its output captured; kills it (a TimeoutException) after <paramref name="timeout"/>.</summary>
    public static Result Run(ProcessStartInfo start, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(start);
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not finish in {timeout}");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs and asserts exit code 0.</summary>
    public static string Ok(string tool, params string[] args)
    {
        var r = Run(tool, args);
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} exited {r.ExitCode}: {r.StdErr}{r.StdOut}");
        return r.StdOut;
    }

    /// <summary>The (7FE0,0010) value bytes of a file as GDCM reads them (no decoding).</summary>
    public static byte[] RawPixelData(string path, TempDir dir)
    {
        var output = dir.File("gdcmraw.raw");
        Ok("gdcmraw", "-i", path, "-o", output, "-t", "7fe0,0010");
        return File.ReadAllBytes(output);
    }
}

/// <summary>A temporary folder deleted after the test.</summary>
public sealed class TempDir : IDisposable
{
    private int _counter;

    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "pipeline-dicom-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, $"{Interlocked.Increment(ref _counter)}-{name}");

    public void Dispose()
    {
        // PIPELINE_DICOM_KEEP=1 keeps the files for inspection when a conformance test fails.
        if (Environment.GetEnvironmentVariable("PIPELINE_DICOM_KEEP") == "1") return;
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
