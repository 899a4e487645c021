using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Pipeline.Imaging;

namespace Pipeline.Imaging.Tests.Support;

/// <summary>
/// Runs Debian's /usr/bin/python3 (numpy, scikit-image) as an independent oracle. Arrays travel as raw
/// little-endian float64 files in a temp folder; the script prints one JSON document on stdout.
/// A missing interpreter or module fails the test: CI installs python3-skimage.
/// </summary>
internal static class Python
{
    public const string Interpreter = "/usr/bin/python3";

    /// <summary>Writes an image as raw float64 (what the oracle reads with np.fromfile).</summary>
    public static void WriteRaw(string path, Image image)
    {
        var bytes = new byte[image.Pixels.Length * 8];
        for (var i = 0; i < image.Pixels.Length; i++)
            BitConverter.TryWriteBytes(bytes.AsSpan(8 * i), (double)image.Pixels[i]);
        File.WriteAllBytes(path, bytes);
    }

    public static double[] ReadRaw(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var values = new double[bytes.Length / 8];
        for (var i = 0; i < values.Length; i++) values[i] = BitConverter.ToDouble(bytes, 8 * i);
        return values;
    }

    public static JsonElement Run(string script, params string[] args)
    {
        var start = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {Interpreter}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"python oracle failed ({process.ExitCode}): {stderr.Result}");
        return JsonDocument.Parse(stdout.Result).RootElement.Clone();
    }

    public static string Invariant(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>A temp folder removed at dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "imaging-tests-" + Guid.NewGuid().ToString("N")[..12]);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
