namespace Pipeline.Dicom;

/// <summary>Looks up the VR and keyword of a tag (the VR source for Implicit VR data).</summary>
public static partial class DicomDictionary
{
    /// <summary>A dictionary entry; VR is UN and keyword empty for tags not in the dictionary.</summary>
    public readonly record struct Entry(DicomVR VR, string Keyword);

    private static readonly Dictionary<uint, Entry> Exact = BuildExact();

    private static Dictionary<uint, Entry> BuildExact()
    {
        var map = new Dictionary<uint, Entry>(Entries.Length);
        foreach (var e in Entries)
            if (e.Mask == 0xFFFFFFFF) map[e.Tag] = new Entry(e.VR, e.Keyword);
        return map;
    }

    public static Entry Lookup(DicomTag tag)
    {
        if (Exact.TryGetValue(tag.Value, out var entry)) return entry;
        if (tag.Element == 0) return new Entry(DicomVR.UL, "GroupLength");
        if (tag.IsPrivateCreator) return new Entry(DicomVR.LO, "PrivateCreator");
        // Repeating groups (50xx, 60xx): even groups within the range only.
        if ((tag.Group & 0xFF01) is 0x5000 or 0x6000)
        {
            uint masked = tag.Value & 0xFF00FFFF;
            foreach (var e in Entries)
                if (e.Mask != 0xFFFFFFFF && e.Tag == masked) return new Entry(e.VR, e.Keyword);
        }
        return new Entry(DicomVR.UN, "");
    }

    public static DicomVR VR(DicomTag tag) => Lookup(tag).VR;
}
