using System.IO.Compression;
using Pipeline.Dicom.Codecs;
using Pipeline.Dicom.IO;

namespace Pipeline.Dicom;

/// <summary>
/// A DICOM Part 10 file (or a raw dataset without file meta information): meta group, dataset and
/// the transfer syntax they were read with. Entry point for reading, transcoding and writing.
/// </summary>
public sealed class DicomFile
{
    public DicomFile(Dataset dataset, TransferSyntax? transferSyntax = null, Dataset? meta = null)
    {
        Dataset = dataset;
        TransferSyntax = transferSyntax ?? TransferSyntax.ExplicitVRLittleEndian;
        Meta = meta ?? new Dataset();
    }

    /// <summary>File meta information (group 0002); empty for a raw dataset.</summary>
    public Dataset Meta { get; }

    public Dataset Dataset { get; }

    /// <summary>The syntax the dataset was encoded in; its pixel data is still in that encoding.</summary>
    public TransferSyntax TransferSyntax { get; }

    /// <summary>Set by <see cref="ReadHeader(string, DicomReadOptions?)"/>: where the pixel data value starts in the file.</summary>
    public PixelDataLocation? PixelDataLocation { get; private init; }

    /// <summary>Reads a whole file; pixel data stays encoded until frames are asked for.</summary>
    public static DicomFile Open(string path, DicomReadOptions? options = null)
    {
        options ??= DicomReadOptions.Default;
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        options.CheckObjectSize(fs.Length);
        var bytes = new byte[fs.Length];
        fs.ReadExactly(bytes);
        return Parse(new ByteSource(bytes), options, headerOnly: false);
    }

    public static DicomFile Open(Stream stream, DicomReadOptions? options = null)
    {
        options ??= DicomReadOptions.Default;
        return Parse(ObjectSource(stream, options), options, headerOnly: false);
    }

    public static DicomFile Open(ReadOnlyMemory<byte> bytes, DicomReadOptions? options = null)
    {
        options ??= DicomReadOptions.Default;
        options.CheckObjectSize(bytes.Length);
        return Parse(new ByteSource(bytes), options, headerOnly: false);
    }

    /// <summary>Reads only up to the top-level pixel data element (never loads it); see <see cref="PixelDataLocation"/>.</summary>
    public static DicomFile ReadHeader(string path, DicomReadOptions? options = null)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        return ReadHeader(fs, options);
    }

    public static DicomFile ReadHeader(Stream stream, DicomReadOptions? options = null)
    {
        options ??= DicomReadOptions.Default;
        return Parse(ObjectSource(stream, options), options, headerOnly: true);
    }

    private static ByteSource ObjectSource(Stream stream, DicomReadOptions options)
    {
        if (stream.CanSeek) options.CheckObjectSize(stream.Length - stream.Position);
        return new ByteSource(stream, options.MaxObjectBytes, nameof(options.MaxObjectBytes), "object");
    }

    private static DicomFile Parse(ByteSource src, DicomReadOptions options, bool headerOnly)
    {
        var parser = new DicomParser(src, options, 0);
        var meta = new Dataset();
        bool part10 = src.Ensure(132) && src.Buffer.AsSpan(128, 4).SequenceEqual("DICM"u8);
        if (part10) parser.Position = 132;
        if (parser.PeekGroup() == 0x0002)
        {
            parser.SetSyntax(explicitVR: true, littleEndian: true);
            meta = parser.ParseDataset(-1, 0, onlyGroup: 0x0002);
        }
        else if (part10)
        {
            throw new DicomFormatException("Part 10 preamble without a file meta information group", 132);
        }

        TransferSyntax ts;
        var tsUid = meta.GetString(DicomTags.TransferSyntaxUID);
        if (tsUid is { Length: > 0 })
        {
            ts = TransferSyntax.FromUid(tsUid);
        }
        else
        {
            // No meta: guess from the first element (PS3.10 allows raw datasets on media only, but they exist).
            var group = parser.PeekGroup() ?? throw new DicomFormatException("empty input", parser.Position);
            parser.SetSyntax(true, true);
            bool bigEndian = group is 0x0800 or 0x1000 or 0x2000 or 0x2800;
            ts = bigEndian ? TransferSyntax.ExplicitVRBigEndian
                : parser.LooksExplicit() ? TransferSyntax.ExplicitVRLittleEndian
                : TransferSyntax.ImplicitVRLittleEndian;
        }

        if (ts.Deflated)
        {
            int start = parser.Position;
            src.ReadToEnd();
            var inflated = new DeflateStream(new MemoryStream(src.Buffer, start, src.Count - start), CompressionMode.Decompress);
            // Inflating stops one byte past the limit: a small deflate bomb never becomes a large buffer.
            var inner = new ByteSource(inflated, options.MaxDecompressedBytes, nameof(options.MaxDecompressedBytes), "inflated dataset");
            var deflatedParser = new DicomParser(inner, options, 0);
            deflatedParser.SetSyntax(true, true);
            try
            {
                var ds = deflatedParser.ParseDataset(-1, 0, headerOnly);
                return new DicomFile(FixImplicitAmbiguity(ds, false), ts, meta) { PixelDataLocation = deflatedParser.PixelData, ReadOptions = options };
            }
            catch (InvalidDataException e)
            {
                throw new DicomFormatException($"corrupt deflate stream: {e.Message}", start);
            }
        }

        bool explicitVR = ts.ExplicitVR;
        parser.SetSyntax(explicitVR, ts.LittleEndian);
        // Some writers label Implicit VR data as Explicit (and vice versa): trust the bytes.
        if (ts.LittleEndian && parser.PeekGroup() is not null && parser.LooksExplicit() != explicitVR)
        {
            explicitVR = !explicitVR;
            parser.SetSyntax(explicitVR, true);
        }
        var dataset = parser.ParseDataset(-1, 0, headerOnly);
        return new DicomFile(FixImplicitAmbiguity(dataset, !explicitVR), ts, meta) { PixelDataLocation = parser.PixelData, ReadOptions = options };
    }

    private static readonly DicomTag[] PixelValueTags =
    [
        DicomTags.SmallestImagePixelValue, DicomTags.LargestImagePixelValue, DicomTags.SmallestPixelValueInSeries,
        DicomTags.LargestPixelValueInSeries, DicomTags.PixelPaddingValue, DicomTags.PixelPaddingRangeLimit,
    ];

    /// <summary>In Implicit VR the "US or SS" pixel-value attributes follow Pixel Representation (PS3.5 A.1 note).</summary>
    private static Dataset FixImplicitAmbiguity(Dataset ds, bool implicitVR)
    {
        if (!implicitVR || ds.GetInt(DicomTags.PixelRepresentation, 0) != 1) return ds;
        foreach (var tag in PixelValueTags)
            if (ds[tag] is DicomValueElement { VR: DicomVR.US } v)
                ds.Add(new DicomValueElement(tag, DicomVR.SS, v.Value));
        return ds;
    }

    /// <summary>The options this file was read with (the external transcoder among them).</summary>
    public DicomReadOptions ReadOptions { get; private init; } = DicomReadOptions.Default;

    /// <summary>
    /// Pixel data of this file, decoded lazily frame by frame. In a syntax we cannot decode, and with an
    /// external transcoder configured, the whole file is decoded by it first (and the result's
    /// <see cref="PixelData.TransferSyntax"/> is the native syntax it wrote).
    /// </summary>
    public PixelData GetPixelData()
    {
        if (PixelDataLocation is not null)
            throw new DicomPixelDataException("this file was read header-only: open it with DicomFile.Open to get pixels");
        if (!TransferSyntax.IsSupported && ReadOptions.ExternalTranscoderPath is not null && Dataset[DicomTags.PixelData] is DicomFragments)
            return ExternalTranscoder.ToNative(this, ReadOptions).GetPixelData();
        return PixelData.FromDataset(Dataset, TransferSyntax);
    }

    /// <summary>A copy in another syntax; pixel data is decoded (and re-encoded for RLE) as needed.</summary>
    public DicomFile Transcode(TransferSyntax target) => Transcoder.Transcode(this, target);

    /// <summary>Writes Part 10 (preamble, meta, dataset) in the given syntax (default: this file's, if writable).</summary>
    public void Save(string path, TransferSyntax? syntax = null)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Save(fs, syntax);
    }

    public void Save(Stream stream, TransferSyntax? syntax = null)
    {
        var file = syntax is null || syntax == TransferSyntax ? this : Transcode(syntax);
        DicomWriter.WriteFile(stream, file.Dataset, file.TransferSyntax, Meta);
    }
}
