using System.Diagnostics;

namespace Pipeline.Dicom.Codecs;

/// <summary>
/// Decodes pixel data in syntaxes we have no codec for (JPEG-LS, JPEG 2000, ...) by running GDCM's
/// <c>gdcmconv --raw IN OUT</c> at a configured path (<see cref="DicomReadOptions.ExternalTranscoderPath"/>,
/// off by default) on a temporary copy of the file, then reading its native output with our own reader.
/// </summary>
internal static class ExternalTranscoder
{
    public static DicomFile ToNative(DicomFile file, DicomReadOptions options)
    {
        var tool = options.ExternalTranscoderPath!;
        var folder = Directory.CreateTempSubdirectory("pipeline-dicom-transcode-");
        try
        {
            var input = Path.Combine(folder.FullName, "in.dcm");
            var output = Path.Combine(folder.FullName, "out.dcm");
            file.Save(input);
            Run(tool, ["--raw", input, output], options.ExternalTranscoderTimeout, file.TransferSyntax);
            var native = DicomFile.Open(output, options with { ExternalTranscoderPath = null });
            if (native.TransferSyntax.Encapsulated)
                throw new DicomPixelDataException($"external transcoder {tool} left {file.TransferSyntax} as {native.TransferSyntax}");
            return native;
        }
        finally
        {
            try { folder.Delete(recursive: true); } catch (IOException) { }
        }
    }

    private static void Run(string tool, string[] args, TimeSpan timeout, TransferSyntax syntax)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new DicomPixelDataException($"external transcoder {tool} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new DicomPixelDataException($"external transcoder {tool} cannot be run for {syntax}: {e.Message}", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new DicomPixelDataException($"external transcoder {tool} did not finish {syntax} within {timeout.TotalSeconds:0} s");
            }
            process.WaitForExit(); // drains the output readers
            if (process.ExitCode != 0)
            {
                var reason = (stderr.Result + stdout.Result).ReplaceLineEndings(" ").Trim();
                throw new DicomPixelDataException($"external transcoder {tool} failed on {syntax} (exit {process.ExitCode}): {reason[..Math.Min(reason.Length, 300)]}");
            }
        }
    }
}
