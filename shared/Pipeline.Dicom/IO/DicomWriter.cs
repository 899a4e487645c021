using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Pipeline.Dicom.IO;

/// <summary>
/// Encodes datasets (PS3.5 section 7) and Part 10 files (PS3.10 section 7). Sequences and items are
/// written with undefined length; dataset group lengths (retired) are dropped; the meta group length
/// is computed.
/// </summary>
internal sealed class DicomWriter
{
    /// <summary>Implementation Class UID of this codec: 2.25 form of the UUID derived from "Pipeline.Dicom" (see README).</summary>
    public static readonly string ImplementationClassUid = DicomUid.FromNames("Pipeline.Dicom", "implementation-class", "1");
    public const string ImplementationVersion = "PIPELINE_DICOM_1";

    private readonly Stream _out;
    private readonly bool _explicit;
    private readonly bool _little;
    private readonly byte[] _scratch = new byte[12];

    private DicomWriter(Stream output, bool explicitVR, bool littleEndian)
    {
        _out = output;
        _explicit = explicitVR;
        _little = littleEndian;
    }

    public static void WriteFile(Stream output, Dataset dataset, TransferSyntax ts, Dataset? sourceMeta)
    {
        var meta = new Dataset();
        meta.SetBytes(DicomTags.FileMetaInformationVersion, DicomVR.OB, new byte[] { 0, 1 });
        meta.SetString(DicomTags.MediaStorageSOPClassUID, dataset.GetString(DicomTags.SOPClassUID) ?? "");
        meta.SetString(DicomTags.MediaStorageSOPInstanceUID, dataset.GetString(DicomTags.SOPInstanceUID) ?? "");
        meta.SetString(DicomTags.TransferSyntaxUID, ts.Uid);
        meta.SetString(DicomTags.ImplementationClassUID, ImplementationClassUid);
        meta.SetString(DicomTags.ImplementationVersionName, ImplementationVersion);
        if (sourceMeta?.GetString(DicomTags.SourceApplicationEntityTitle) is { Length: > 0 } aet)
            meta.SetString(DicomTags.SourceApplicationEntityTitle, aet);

        var metaBytes = new MemoryStream();
        new DicomWriter(metaBytes, true, true).WriteDataset(meta);
        var head = new MemoryStream();
        head.Write(new byte[128]);
        head.Write("DICM"u8);
        var groupLength = new Dataset();
        groupLength.SetNumber(DicomTags.FileMetaInformationGroupLength, metaBytes.Length);
        new DicomWriter(head, true, true).WriteDataset(groupLength, keepGroupLengths: true);
        metaBytes.WriteTo(head);
        head.WriteTo(output);

        if (ts.Deflated)
        {
            using var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true);
            using var buffered = new BufferedStream(deflate, 1 << 16);
            new DicomWriter(buffered, true, true).WriteDataset(dataset);
        }
        else
        {
            new DicomWriter(output, ts.ExplicitVR, ts.LittleEndian).WriteDataset(dataset);
        }
        output.Flush();
    }

    /// <summary>Encodes a bare dataset (no preamble, no meta) in the given syntax.</summary>
    public static void WriteDataset(Stream output, Dataset dataset, TransferSyntax ts)
    {
        if (ts.Deflated) throw new DicomException("a bare dataset cannot be written deflated; use a Part 10 file");
        new DicomWriter(output, ts.ExplicitVR, ts.LittleEndian).WriteDataset(dataset);
    }

    private void WriteDataset(Dataset dataset, bool keepGroupLengths = false)
    {
        foreach (var element in dataset)
        {
            if (element.Tag.IsGroupLength && !keepGroupLengths) continue;
            switch (element)
            {
                case DicomValueElement v: WriteValue(v); break;
                case DicomSequence s: WriteSequence(s); break;
                case DicomFragments f: WriteFragments(f); break;
            }
        }
    }

    private void WriteValue(DicomValueElement v)
    {
        var value = v.Value.Span;
        int padded = value.Length + (value.Length & 1);
        var vr = v.VR;
        if (_explicit && !vr.HasLongLength() && padded > 0xFFFF)
        {
            // Too long for a 16-bit length (e.g. read from Implicit VR): UN keeps the bytes.
            vr = DicomVR.UN;
        }
        WriteHeader(v.Tag, vr, (uint)padded);
        if (_little || vr.SwapUnit() == 1)
        {
            _out.Write(value);
        }
        else
        {
            int unit = vr.SwapUnit();
            var swapped = value.ToArray();
            for (int i = 0; i + unit <= swapped.Length; i += unit) swapped.AsSpan(i, unit).Reverse();
            _out.Write(swapped);
        }
        if ((value.Length & 1) == 1) _out.WriteByte(vr.PaddingByte());
    }

    private void WriteSequence(DicomSequence s)
    {
        WriteHeader(s.Tag, DicomVR.SQ, 0xFFFFFFFF);
        foreach (var item in s.Items)
        {
            WriteTagLength(DicomTag.Item, 0xFFFFFFFF);
            WriteDataset(item);
            WriteTagLength(DicomTag.ItemDelimitation, 0);
        }
        WriteTagLength(DicomTag.SequenceDelimitation, 0);
    }

    private void WriteFragments(DicomFragments f)
    {
        if (!_explicit || !_little)
            throw new DicomException("encapsulated pixel data can only be written in an Explicit VR Little Endian based syntax");
        WriteHeader(f.Tag, DicomVR.OB, 0xFFFFFFFF);
        WriteItem(f.OffsetTable.Span);
        foreach (var fragment in f.Fragments) WriteItem(fragment.Span);
        WriteTagLength(DicomTag.SequenceDelimitation, 0);
    }

    private void WriteItem(ReadOnlySpan<byte> bytes)
    {
        WriteTagLength(DicomTag.Item, (uint)(bytes.Length + (bytes.Length & 1)));
        _out.Write(bytes);
        if ((bytes.Length & 1) == 1) _out.WriteByte(0);
    }

    private void WriteTag(Span<byte> b, DicomTag tag)
    {
        if (_little)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(b, tag.Group);
            BinaryPrimitives.WriteUInt16LittleEndian(b[2..], tag.Element);
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(b, tag.Group);
            BinaryPrimitives.WriteUInt16BigEndian(b[2..], tag.Element);
        }
    }

    private void WriteU32(Span<byte> b, uint v)
    {
        if (_little) BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        else BinaryPrimitives.WriteUInt32BigEndian(b, v);
    }

    /// <summary>Item and delimiter headers: tag and 32-bit length, never a VR.</summary>
    private void WriteTagLength(DicomTag tag, uint length)
    {
        var b = _scratch.AsSpan(0, 8);
        WriteTag(b, tag);
        WriteU32(b[4..], length);
        _out.Write(b);
    }

    private void WriteHeader(DicomTag tag, DicomVR vr, uint length)
    {
        if (!_explicit)
        {
            WriteTagLength(tag, length);
            return;
        }
        var b = _scratch.AsSpan();
        WriteTag(b, tag);
        b[4] = (byte)((ushort)vr >> 8);
        b[5] = (byte)vr;
        if (vr.HasLongLength())
        {
            b[6] = b[7] = 0;
            WriteU32(b[8..], length);
            _out.Write(b[..12]);
        }
        else
        {
            if (_little) BinaryPrimitives.WriteUInt16LittleEndian(b[6..], (ushort)length);
            else BinaryPrimitives.WriteUInt16BigEndian(b[6..], (ushort)length);
            _out.Write(b[..8]);
        }
    }

    internal static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);
}
