using System.Buffers.Binary;
using Pipeline.Dicom.Codecs;

namespace Pipeline.Dicom;

/// <summary>Changes a file's transfer syntax: decodes compressed pixel data, encodes RLE.</summary>
internal static class Transcoder
{
    public static DicomFile Transcode(DicomFile source, TransferSyntax target)
    {
        var ds = source.Dataset;
        var from = source.TransferSyntax;
        bool hasPixels = ds.Contains(DicomTags.PixelData);
        if (!hasPixels || (from.Encapsulated == target.Encapsulated && from.Pixels == target.Pixels))
        {
            if (target.Pixels is PixelEncoding.Unsupported)
                throw new DicomUnsupportedTransferSyntaxException(target.Uid, target.Name);
            return new DicomFile(ds, target, source.Meta);
        }
        var pixels = source.GetPixelData();
        var d = pixels.Description;
        var copy = ds.Clone();
        switch (target.Pixels)
        {
            case PixelEncoding.Native:
                copy.SetBytes(DicomTags.PixelData, d.BitsAllocated > 8 ? DicomVR.OW : DicomVR.OB, pixels.ToNativeBytes());
                copy.SetString(DicomTags.PhotometricInterpretation, d.Photometric); // YBR JPEG decodes to RGB
                break;
            case PixelEncoding.Rle:
                d.RequireByteAligned(target);
                var frames = new List<ReadOnlyMemory<byte>>(pixels.FrameCount);
                var table = new byte[4 * pixels.FrameCount];
                uint offset = 0;
                for (int i = 0; i < pixels.FrameCount; i++)
                {
                    var encoded = RleCodec.Encode(pixels.GetFrameBytes(i).Span, d);
                    BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(4 * i), offset);
                    offset += (uint)(8 + encoded.Length);
                    frames.Add(encoded);
                }
                copy.Add(new DicomFragments(DicomTags.PixelData, DicomVR.OB, table, frames));
                break;
            default:
                throw new DicomUnsupportedTransferSyntaxException(target.Uid, target.Name + ": encoding not supported");
        }
        return new DicomFile(copy, target, source.Meta);
    }
}
