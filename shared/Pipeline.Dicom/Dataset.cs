using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Pipeline.Dicom;

/// <summary>
/// An ordered set of attributes (a DICOM data set or sequence item) with typed getters and setters.
/// Text is decoded with the Specific Character Set found here or in an enclosing dataset.
/// </summary>
public sealed class Dataset : IEnumerable<DicomElement>
{
    private readonly SortedList<DicomTag, DicomElement> _elements = [];
    private CharacterSet? _characterSet;

    /// <summary>The dataset enclosing this one when it is a sequence item.</summary>
    public Dataset? Parent { get; internal set; }

    public int Count => _elements.Count;

    public bool Contains(DicomTag tag) => _elements.ContainsKey(tag);

    public DicomElement? this[DicomTag tag] => _elements.GetValueOrDefault(tag);

    public IEnumerator<DicomElement> GetEnumerator() => _elements.Values.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The character set in force: this dataset's (0008,0005), else the parent's, else default.</summary>
    public CharacterSet CharacterSet =>
        _characterSet ??= Contains(DicomTags.SpecificCharacterSet)
            ? CharacterSet.FromTerms(GetStrings(DicomTags.SpecificCharacterSet))
            : Parent?.CharacterSet ?? CharacterSet.Default;

    /// <summary>Adds or replaces an element; nested items get this dataset as parent.</summary>
    public void Add(DicomElement element)
    {
        if (element is DicomSequence seq)
            foreach (var item in seq.Items) item.Parent = this;
        _elements[element.Tag] = element;
        if (element.Tag == DicomTags.SpecificCharacterSet) _characterSet = null;
    }

    public bool Remove(DicomTag tag)
    {
        if (tag == DicomTags.SpecificCharacterSet) _characterSet = null;
        return _elements.Remove(tag);
    }

    /// <summary>Deep copy of the element tree (value bytes are immutable and shared).</summary>
    public Dataset Clone()
    {
        var copy = new Dataset();
        foreach (var e in _elements.Values)
            copy.Add(e is DicomSequence s ? new DicomSequence(s.Tag, s.Items.Select(i => i.Clone()).ToList()) : e);
        return copy;
    }

    // ---- getters -------------------------------------------------------------------------------

    /// <summary>Raw value bytes (little endian), or empty when absent or not a value element.</summary>
    public ReadOnlyMemory<byte> GetBytes(DicomTag tag) => this[tag] is DicomValueElement v ? v.Value : default;

    /// <summary>Whole text value with trailing padding removed (multiple values keep their backslashes), or null.</summary>
    public string? GetString(DicomTag tag)
    {
        if (this[tag] is not DicomValueElement v) return null;
        if (!v.VR.IsString()) return v.VR == DicomVR.AT || v.VR.SwapUnit() > 1 ? string.Join('\\', GetNumbers(v)) : null;
        var text = Decode(v);
        return v.VR.IsSingleValuedText() ? text.TrimEnd(' ', '\0') : text.Trim(' ', '\0');
    }

    /// <summary>Each value of a multi-valued string, trimmed; empty when absent.</summary>
    public string[] GetStrings(DicomTag tag)
    {
        if (this[tag] is not DicomValueElement v) return [];
        if (!v.VR.IsString()) return GetNumbers(v).Select(n => n.ToString(CultureInfo.InvariantCulture)).ToArray();
        var text = Decode(v);
        if (text.Length == 0) return [];
        if (v.VR.IsSingleValuedText()) return [text.TrimEnd(' ', '\0')];
        return text.Split('\\').Select(s => s.Trim(' ', '\0')).ToArray();
    }

    public string GetRequiredString(DicomTag tag) =>
        GetString(tag) is { Length: > 0 } s ? s : throw new DicomAttributeException(tag, "missing or empty");

    /// <summary>All numeric values of a binary (US, SS, UL, SL, FL, FD...) or decimal-string (DS, IS) attribute.</summary>
    public double[] GetDoubles(DicomTag tag)
    {
        if (this[tag] is not DicomValueElement v) return [];
        if (!v.VR.IsString()) return GetNumbers(v);
        var parts = GetStrings(tag);
        var result = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out result[i]))
                throw new DicomAttributeException(tag, $"value {i + 1} '{parts[i]}' is not a number");
        return result;
    }

    public bool TryGetDouble(DicomTag tag, out double value, int index = 0)
    {
        var all = GetDoubles(tag);
        value = index < all.Length ? all[index] : 0;
        return index < all.Length;
    }

    public double GetDouble(DicomTag tag, double defaultValue) => TryGetDouble(tag, out var v) ? v : defaultValue;

    public double GetDouble(DicomTag tag) =>
        TryGetDouble(tag, out var v) ? v : throw new DicomAttributeException(tag, "missing or empty");

    public bool TryGetInt(DicomTag tag, out int value, int index = 0)
    {
        value = 0;
        if (!TryGetDouble(tag, out var d, index)) return false;
        if (d != Math.Floor(d) || d < int.MinValue || d > int.MaxValue)
            throw new DicomAttributeException(tag, $"value {d} is not a 32-bit integer");
        value = (int)d;
        return true;
    }

    public int GetInt(DicomTag tag, int defaultValue) => TryGetInt(tag, out var v) ? v : defaultValue;

    public int GetInt(DicomTag tag) =>
        TryGetInt(tag, out var v) ? v : throw new DicomAttributeException(tag, "missing or empty");

    public IReadOnlyList<Dataset> GetSequence(DicomTag tag) => this[tag] is DicomSequence s ? s.Items : [];

    private string Decode(DicomValueElement v)
    {
        var encoding = v.VR.UsesCharacterSet() ? CharacterSet.Encoding : Encoding.Latin1;
        return encoding.GetString(v.Value.Span);
    }

    private static double[] GetNumbers(DicomValueElement v)
    {
        var s = v.Value.Span;
        int unit = v.VR switch { DicomVR.AT => 4, _ => v.VR.SwapUnit() };
        if (unit <= 1) return [];
        var result = new double[s.Length / unit];
        for (int i = 0; i < result.Length; i++)
        {
            var b = s.Slice(i * unit, unit);
            result[i] = v.VR switch
            {
                DicomVR.US or DicomVR.OW => BinaryPrimitives.ReadUInt16LittleEndian(b),
                DicomVR.SS => BinaryPrimitives.ReadInt16LittleEndian(b),
                DicomVR.UL or DicomVR.OL => BinaryPrimitives.ReadUInt32LittleEndian(b),
                DicomVR.SL => BinaryPrimitives.ReadInt32LittleEndian(b),
                DicomVR.FL or DicomVR.OF => BinaryPrimitives.ReadSingleLittleEndian(b),
                DicomVR.FD or DicomVR.OD => BinaryPrimitives.ReadDoubleLittleEndian(b),
                DicomVR.SV => BinaryPrimitives.ReadInt64LittleEndian(b),
                DicomVR.UV or DicomVR.OV => BinaryPrimitives.ReadUInt64LittleEndian(b),
                DicomVR.AT => (BinaryPrimitives.ReadUInt16LittleEndian(b) << 16) | BinaryPrimitives.ReadUInt16LittleEndian(b[2..]),
                _ => 0,
            };
        }
        return result;
    }

    // ---- setters -------------------------------------------------------------------------------

    /// <summary>Sets text values (joined by backslash) with the dictionary VR or the one given.</summary>
    public Dataset SetString(DicomTag tag, string value, DicomVR? vr = null)
    {
        var v = vr ?? DictionaryVR(tag);
        if (!v.IsString()) throw new DicomAttributeException(tag, $"VR {v} does not hold text");
        var encoding = v.UsesCharacterSet() ? CharacterSet.Encoding : Encoding.ASCII;
        Add(new DicomValueElement(tag, v, encoding.GetBytes(value)));
        return this;
    }

    public Dataset SetStrings(DicomTag tag, params string[] values) => SetString(tag, string.Join('\\', values));

    /// <summary>Sets numbers: formatted as text for DS/IS, binary for US/SS/UL/SL/FL/FD (VR from the dictionary unless given).</summary>
    public Dataset SetNumbers(DicomTag tag, IReadOnlyList<double> values, DicomVR? vr = null)
    {
        var v = vr ?? DictionaryVR(tag);
        if (v == DicomVR.DS) return SetString(tag, string.Join('\\', values.Select(FormatDecimal)), v);
        if (v == DicomVR.IS) return SetString(tag, string.Join('\\', values.Select(d => ((long)Math.Round(d)).ToString(CultureInfo.InvariantCulture))), v);
        int unit = v.SwapUnit();
        if (unit <= 1 || v == DicomVR.AT) throw new DicomAttributeException(tag, $"VR {v} does not hold numbers");
        var bytes = new byte[values.Count * unit];
        for (int i = 0; i < values.Count; i++)
        {
            var b = bytes.AsSpan(i * unit);
            var d = values[i];
            switch (v)
            {
                case DicomVR.US or DicomVR.OW: BinaryPrimitives.WriteUInt16LittleEndian(b, checked((ushort)d)); break;
                case DicomVR.SS: BinaryPrimitives.WriteInt16LittleEndian(b, checked((short)d)); break;
                case DicomVR.UL or DicomVR.OL: BinaryPrimitives.WriteUInt32LittleEndian(b, checked((uint)d)); break;
                case DicomVR.SL: BinaryPrimitives.WriteInt32LittleEndian(b, checked((int)d)); break;
                case DicomVR.FL or DicomVR.OF: BinaryPrimitives.WriteSingleLittleEndian(b, (float)d); break;
                case DicomVR.FD or DicomVR.OD: BinaryPrimitives.WriteDoubleLittleEndian(b, d); break;
                case DicomVR.SV: BinaryPrimitives.WriteInt64LittleEndian(b, checked((long)d)); break;
                default: BinaryPrimitives.WriteUInt64LittleEndian(b, checked((ulong)d)); break;
            }
        }
        Add(new DicomValueElement(tag, v, bytes));
        return this;
    }

    public Dataset SetNumber(DicomTag tag, double value, DicomVR? vr = null) => SetNumbers(tag, [value], vr);

    public Dataset SetBytes(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> value)
    {
        Add(new DicomValueElement(tag, vr, value));
        return this;
    }

    public Dataset SetSequence(DicomTag tag, params Dataset[] items)
    {
        Add(new DicomSequence(tag, items));
        return this;
    }

    /// <summary>A code item (Code Value, Coding Scheme Designator, Code Meaning) for code sequences.</summary>
    public static Dataset Code(string value, string scheme, string meaning) => new Dataset()
        .SetString(DicomTags.CodeValue, value)
        .SetString(DicomTags.CodingSchemeDesignator, scheme)
        .SetString(DicomTags.CodeMeaning, meaning);

    private static DicomVR DictionaryVR(DicomTag tag)
    {
        var vr = DicomDictionary.VR(tag);
        if (vr == DicomVR.UN) throw new DicomAttributeException(tag, "not in the dictionary: pass a VR");
        return vr;
    }

    /// <summary>Decimal String: at most 16 characters (PS3.5 6.2), shortest round-trip form that fits.</summary>
    public static string FormatDecimal(double d)
    {
        if (!double.IsFinite(d)) throw new ArgumentOutOfRangeException(nameof(d), "DS cannot hold NaN or infinity");
        var s = d.ToString("R", CultureInfo.InvariantCulture);
        for (int digits = 15; s.Length > 16 && digits > 0; digits--)
            s = d.ToString("G" + digits, CultureInfo.InvariantCulture);
        return s;
    }
}
