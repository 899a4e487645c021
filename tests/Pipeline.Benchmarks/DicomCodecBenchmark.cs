using System.Diagnostics;
using Pipeline.Dicom;

namespace Pipeline.Benchmarks;

/// <summary>
/// dicom-codec: MB/s (of 16-bit pixel data) to parse+decode and to encode a 512x512 series, in memory
/// and file-to-file next to dcmtk (dcmconv +te, dcmdrle, dcmcrle) on the same files in the same run.
/// </summary>
public sealed class DicomCodecBenchmark : IBenchmark
{
    public string Name => "dicom-codec";
    public string Description => "Pipeline.Dicom parse/decode/encode MB/s vs dcmtk (512x512 16-bit series). Options: [slices=64]";

    public Task<int> RunAsync(string[] args)
    {
        int slices = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 64;
        var dir = Path.Combine(Path.GetTempPath(), "dicom-codec-bench-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        try
        {
            Run(dir, slices);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        return Task.FromResult(0);
    }

    private static void Run(string dir, int slices)
    {
        const int size = 512;
        double megabytes = slices * size * size * 2 / 1e6;
        var rng = new Random(42);
        var explicitFiles = new List<string>();
        var rleFiles = new List<string>();
        for (int s = 0; s < slices; s++)
        {
            // MR-like content: smooth anatomy-ish gradient, a dark background, and noise.
            var pixels = new float[size * size];
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                {
                    double r = Math.Sqrt((x - 256.0) * (x - 256) + (y - 256.0) * (y - 256));
                    pixels[y * size + x] = r > 220 ? rng.Next(0, 8) : (float)(1500 + 800 * Math.Sin(x / 23.0 + s) * Math.Cos(y / 31.0) + rng.Next(-60, 60));
                }
            var spec = new MrImageSpec
            {
                StudyInstanceUid = DicomUid.FromNames("bench-study"), SeriesInstanceUid = DicomUid.FromNames("bench-series"),
                SopInstanceUid = DicomUid.FromNames("bench", s.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                FrameOfReferenceUid = DicomUid.FromNames("bench-for"), InstanceNumber = s + 1, Rows = size, Columns = size,
                Plane = new ImagePlane { PositionPatient = [0, 0, s], OrientationPatient = [1, 0, 0, 0, 1, 0], PixelSpacing = [0.5, 0.5] },
            };
            var file = MrImage.Create(spec, pixels);
            var e = Path.Combine(dir, $"e{s:D4}.dcm");
            var r2 = Path.Combine(dir, $"r{s:D4}.dcm");
            file.Save(e);
            file.Save(r2, TransferSyntax.RleLossless);
            explicitFiles.Add(e);
            rleFiles.Add(r2);
        }
        var outDir = Path.Combine(dir, "out");
        Directory.CreateDirectory(outDir);
        string Out(string f) => Path.Combine(outDir, Path.GetFileName(f));

        Console.WriteLine($"dicom-codec: {slices} slices of 512x512 16-bit ({megabytes:F1} MB of pixels), {Environment.ProcessorCount} cores");
        var explicitBytes = explicitFiles.Select(File.ReadAllBytes).ToList();
        var rleBytes = rleFiles.Select(File.ReadAllBytes).ToList();
        var frame = new float[size * size]; // a worker reuses its frame buffer
        Report("in-memory parse+decode explicit LE -> float", megabytes, () =>
        {
            foreach (var b in explicitBytes) DicomFile.Open(b).GetPixelData().GetFrame(0, frame);
        });
        Report("in-memory parse+decode RLE -> float", megabytes, () =>
        {
            foreach (var b in rleBytes) DicomFile.Open(b).GetPixelData().GetFrame(0, frame);
        });
        var parsed = explicitBytes.Select(b => DicomFile.Open(b)).ToList();
        Report("in-memory encode explicit LE", megabytes, () =>
        {
            foreach (var f in parsed) f.Save(new MemoryStream(), TransferSyntax.ExplicitVRLittleEndian);
        });
        Report("in-memory encode RLE", megabytes, () =>
        {
            foreach (var f in parsed) f.Save(new MemoryStream(), TransferSyntax.RleLossless);
        });

        Compare("file->file explicit LE -> explicit LE", megabytes,
            () => { foreach (var f in explicitFiles) DicomFile.Open(f).Save(Out(f), TransferSyntax.ExplicitVRLittleEndian); },
            () => { foreach (var f in explicitFiles) Tool("dcmconv", "+te", f, Out(f)); });
        Compare("file->file RLE decode -> explicit LE", megabytes,
            () => { foreach (var f in rleFiles) DicomFile.Open(f).Save(Out(f), TransferSyntax.ExplicitVRLittleEndian); },
            () => { foreach (var f in rleFiles) Tool("dcmdrle", f, Out(f)); });
        Compare("file->file RLE encode from explicit LE", megabytes,
            () => { foreach (var f in explicitFiles) DicomFile.Open(f).Save(Out(f), TransferSyntax.RleLossless); },
            () => { foreach (var f in explicitFiles) Tool("dcmcrle", f, Out(f)); });
        // One multi-frame file holding every slice: one dcmtk process, so start-up does not dominate.
        var multi = DicomFile.Open(explicitFiles[0]).Dataset.Clone();
        multi.SetString(DicomTags.NumberOfFrames, slices.ToString(System.Globalization.CultureInfo.InvariantCulture));
        multi.SetBytes(DicomTags.PixelData, DicomVR.OW, explicitBytes.SelectMany(b => DicomFile.Open(b).GetPixelData().ToNativeBytes()).ToArray());
        var multiExplicit = Path.Combine(dir, "multi-e.dcm");
        var multiRle = Path.Combine(dir, "multi-r.dcm");
        new DicomFile(multi).Save(multiExplicit);
        new DicomFile(multi).Save(multiRle, TransferSyntax.RleLossless);
        var multiOut = Path.Combine(outDir, "multi.dcm");
        Compare("multi-frame explicit LE -> explicit LE", megabytes,
            () => DicomFile.Open(multiExplicit).Save(multiOut, TransferSyntax.ExplicitVRLittleEndian),
            () => Tool("dcmconv", "+te", multiExplicit, multiOut));
        Compare("multi-frame RLE decode -> explicit LE", megabytes,
            () => DicomFile.Open(multiRle).Save(multiOut, TransferSyntax.ExplicitVRLittleEndian),
            () => Tool("dcmdrle", multiRle, multiOut));
        Compare("multi-frame RLE encode from explicit LE", megabytes,
            () => DicomFile.Open(multiExplicit).Save(multiOut, TransferSyntax.RleLossless),
            () => Tool("dcmcrle", multiExplicit, multiOut));
        // Lossy JPEG Extended (12-bit DCT) made by dcmcjpeg; both decoders are IJG-exact, so both write the same pixels.
        var multiJpeg = Path.Combine(dir, "multi-j.dcm");
        Tool("dcmcjpeg", "+ee", multiExplicit, multiJpeg);
        Compare("multi-frame JPEG 12-bit decode -> expl. LE", megabytes,
            () => DicomFile.Open(multiJpeg).Save(multiOut, TransferSyntax.ExplicitVRLittleEndian),
            () => Tool("dcmdjpeg", multiJpeg, multiOut));
        Console.WriteLine("note: dcmtk runs one process per file (as in a shell loop); its figures include process start-up.");
    }

    private static double Time(Action action)
    {
        action(); // warm-up (JIT, page cache)
        var best = double.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            var watch = Stopwatch.StartNew();
            action();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return best;
    }

    private static void Report(string what, double megabytes, Action action) =>
        Console.WriteLine($"  {what,-44} {megabytes / Time(action),8:F0} MB/s");

    private static void Compare(string what, double megabytes, Action ours, Action dcmtk)
    {
        double a = megabytes / Time(ours), b = megabytes / Time(dcmtk);
        Console.WriteLine($"  {what,-44} ours {a,6:F0} MB/s  dcmtk {b,6:F0} MB/s  ratio {a / b,5:F2}x");
    }

    private static void Tool(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { UseShellExecute = false, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{tool} not found (apt: dcmtk)");
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{tool} failed with {p.ExitCode}");
    }
}
