namespace Pipeline.Dicom;

/// <summary>A DICOM attribute tag (group, element).</summary>
public readonly record struct DicomTag(ushort Group, ushort Element) : IComparable<DicomTag>
{
    public DicomTag(uint value) : this((ushort)(value >> 16), (ushort)value) { }

    public uint Value => ((uint)Group << 16) | Element;

    /// <summary>Private tags live in odd groups (except the reserved 0001..0007 and FFFF).</summary>
    public bool IsPrivate => (Group & 1) == 1 && Group > 7 && Group != 0xFFFF;

    /// <summary>(gggg,0010-00FF) in a private group names the creator of a block of private tags.</summary>
    public bool IsPrivateCreator => IsPrivate && Element is >= 0x10 and <= 0xFF;

    public bool IsGroupLength => Element == 0;

    public int CompareTo(DicomTag other) => Value.CompareTo(other.Value);

    public override string ToString() => $"({Group:X4},{Element:X4})";

    public string Keyword => DicomDictionary.Lookup(this).Keyword;

    internal static readonly DicomTag Item = new(0xFFFE, 0xE000);
    internal static readonly DicomTag ItemDelimitation = new(0xFFFE, 0xE00D);
    internal static readonly DicomTag SequenceDelimitation = new(0xFFFE, 0xE0DD);
}
