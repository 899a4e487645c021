namespace Pipeline.Dicom;

/// <summary>One attribute of a dataset: a value, a sequence of items, or encapsulated fragments.</summary>
public abstract class DicomElement(DicomTag tag, DicomVR vr)
{
    public DicomTag Tag { get; } = tag;
    public DicomVR VR { get; } = vr;
}

/// <summary>An attribute holding bytes; multi-byte numbers are always kept little endian in memory.</summary>
public sealed class DicomValueElement(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> value) : DicomElement(tag, vr)
{
    public ReadOnlyMemory<byte> Value { get; } = value;
}

/// <summary>A sequence (SQ, or UN of undefined length) of nested datasets.</summary>
public sealed class DicomSequence(DicomTag tag, IReadOnlyList<Dataset> items) : DicomElement(tag, DicomVR.SQ)
{
    public IReadOnlyList<Dataset> Items { get; } = items;
}

/// <summary>Encapsulated (compressed) pixel data: basic offset table and fragments (PS3.5 A.4).</summary>
public sealed class DicomFragments(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> offsetTable, IReadOnlyList<ReadOnlyMemory<byte>> fragments)
    : DicomElement(tag, vr)
{
    /// <summary>Raw basic offset table (little endian UL values), empty when absent.</summary>
    public ReadOnlyMemory<byte> OffsetTable { get; } = offsetTable;

    public IReadOnlyList<ReadOnlyMemory<byte>> Fragments { get; } = fragments;
}
