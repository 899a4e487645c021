using System.Text;

namespace Pipeline.Dicom;

/// <summary>Human-readable listing of a dataset, one element per line (dcmdump style).</summary>
public static class DicomDump
{
    private const int MaxShown = 64;

    public static string ToText(Dataset dataset)
    {
        var sb = new StringBuilder();
        Write(sb, dataset, 0);
        return sb.ToString();
    }

    public static void Write(StringBuilder sb, Dataset dataset, int depth)
    {
        var indent = new string(' ', depth * 2);
        foreach (var e in dataset)
        {
            var keyword = DicomDictionary.Lookup(e.Tag).Keyword;
            switch (e)
            {
                case DicomSequence s:
                    sb.Append(indent).Append($"{e.Tag} SQ ({s.Items.Count} items)").AppendLine(keyword.Length > 0 ? $"  # {keyword}" : "");
                    for (int i = 0; i < s.Items.Count; i++)
                    {
                        sb.Append(indent).AppendLine($"  (FFFE,E000) item {i + 1}");
                        Write(sb, s.Items[i], depth + 2);
                    }
                    break;
                case DicomFragments f:
                    sb.Append(indent).AppendLine($"{e.Tag} {e.VR} encapsulated: offset table {f.OffsetTable.Length} bytes, {f.Fragments.Count} fragments ({f.Fragments.Sum(x => (long)x.Length)} bytes)  # {keyword}");
                    break;
                case DicomValueElement v:
                    sb.Append(indent).Append($"{e.Tag} {e.VR} ").Append(Render(dataset, v)).Append($"  # {v.Value.Length}").AppendLine(keyword.Length > 0 ? $", {keyword}" : "");
                    break;
            }
        }
    }

    private static string Render(Dataset ds, DicomValueElement v)
    {
        if (v.VR.IsString() || v.VR is DicomVR.US or DicomVR.SS or DicomVR.UL or DicomVR.SL or DicomVR.FL or DicomVR.FD or DicomVR.AT or DicomVR.SV or DicomVR.UV)
        {
            var text = ds.GetString(v.Tag) ?? "";
            if (v.VR == DicomVR.AT) text = string.Join('\\', ds.GetDoubles(v.Tag).Select(n => new DicomTag((uint)n).ToString()));
            text = new string(text.Select(c => char.IsControl(c) ? '.' : c).ToArray());
            return text.Length > MaxShown * 2 ? $"[{text[..(MaxShown * 2)]}...]" : $"[{text}]";
        }
        var bytes = v.Value.Span;
        var hex = Convert.ToHexString(bytes[..Math.Min(bytes.Length, MaxShown / 2)]);
        return bytes.Length > MaxShown / 2 ? hex + "..." : hex;
    }
}
