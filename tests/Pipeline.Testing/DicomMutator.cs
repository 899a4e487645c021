using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Pipeline.Testing;

/// <summary>
/// Derives hostile DICOM files from valid Explicit VR Little Endian Part 10 files (the sample study), reproducibly: the
/// same sources, seed and count give the same bytes. Edits are made on the bytes by a walker of its own, so the
/// mutants do not depend on the reader they attack. Used by the run-invariant test and reusable by a fuzz benchmark.
/// </summary>
public static class DicomMutator
{
    /// <summary>One derived file: a file name that says what was done, the edit in words, and the bytes.</summary>
    public sealed record Mutant(string Name, string Mutation, byte[] Bytes);

    /// <summary>The kinds of damage, each drawn with the same weight.</summary>
    public enum Kind
    {
        BitFlips, Truncation, HugeLength, UndefinedLengthNeverClosed, DeepNesting, TransferSyntax,
        PixelDimensions, Frames, Rescale, DuplicateUid, MissingUid,
    }

    private static readonly string[] OddTransferSyntaxes =
    [
        "1.2.840.10008.1.2", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.50",
        "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.100", "1.2.3.4",
        "", "not a uid", "1.2.840.10008.1.2.1." + new string('9', 60), "1.2.840.10008.1.2.1\0\0garbage",
    ];

    private static readonly ushort[] OddDimensions = [0, 1, 2, 3, 7, 8, 12, 15, 16, 17, 24, 32, 33, 64, 255, 4096, 32767, 32768, 65535];

    private static readonly string[] OddFrames = ["0", "-1", "2", "1000", "99999", "2147483647", "2147483648", "1e9", "abc", ""];

    private static readonly string[] OddRescales = ["1e308", "-1e308", "1e300", "NaN", "inf", "-inf", "1e-320", "0", "", "abc", "1e39", "3.4e38"];

    private static readonly (ushort Group, ushort Element)[] PixelDescription =
        [(0x0028, 0x0002), (0x0028, 0x0010), (0x0028, 0x0011), (0x0028, 0x0100), (0x0028, 0x0101), (0x0028, 0x0102), (0x0028, 0x0103)];

    private static readonly (ushort Group, ushort Element)[] Uids = [(0x0008, 0x0018), (0x0020, 0x000D), (0x0020, 0x000E), (0x0002, 0x0003)];

    /// <summary>
    /// <paramref name="count"/> mutants of <paramref name="sources"/> (whole Part 10 files in Explicit VR Little Endian),
    /// drawn from <paramref name="seed"/>, each with a SOP Instance UID of its own; about one in four has two edits.
    /// </summary>
    public static IReadOnlyList<Mutant> Generate(IReadOnlyList<byte[]> sources, int seed, int count)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var random = new Random(seed);
        var kinds = Enum.GetValues<Kind>();
        var mutants = new List<Mutant>(count);
        for (var i = 0; i < count; i++)
        {
            // A fresh SOP Instance UID first: each mutant is its own object, so only DuplicateUid makes two claim one identity.
            var uid = "2.25." + new UInt128((ulong)random.NextInt64(), (ulong)random.NextInt64()).ToString(CultureInfo.InvariantCulture);
            var bytes = SetValue(SetValue(sources[random.Next(sources.Count)], 0x0002, 0x0003, "UI", uid), 0x0008, 0x0018, "UI", uid);
            var first = kinds[random.Next(kinds.Length)];
            var edits = new List<string> { Apply(ref bytes, first, sources, random) };
            if (random.Next(4) == 0) edits.Add(Apply(ref bytes, kinds[random.Next(kinds.Length)], sources, random));
            mutants.Add(new Mutant($"s{seed}-{i:D3}-{first}.dcm", string.Join("; ", edits), bytes));
        }
        return mutants;
    }

    /// <summary>Applies one edit of <paramref name="kind"/> and says what it did.</summary>
    public static string Apply(ref byte[] bytes, Kind kind, IReadOnlyList<byte[]> sources, Random random)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(random);
        var elements = Walk(bytes);
        if (elements.Count == 0 && kind is not (Kind.BitFlips or Kind.Truncation)) return $"{kind}: no element left to edit";
        switch (kind)
        {
            case Kind.BitFlips:
            {
                var flips = random.Next(1, 9);
                var positions = new List<int>();
                for (var f = 0; f < flips; f++)
                {
                    var position = random.Next(128, bytes.Length);
                    bytes[position] ^= (byte)(1 << random.Next(8));
                    positions.Add(position);
                }
                return $"bits flipped at {string.Join(',', positions)}";
            }
            case Kind.Truncation:
            {
                var length = random.Next(bytes.Length);
                bytes = bytes[..length];
                return $"truncated to {length} bytes";
            }
            case Kind.HugeLength:
            {
                var e = elements[random.Next(elements.Count)];
                var huge = e.LongForm ? 0xFFFFFFF0u + (uint)random.Next(15) : (uint)(0xFF00 + random.Next(0xFF));
                if (e.LongForm) BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(e.Offset + 8), huge);
                else BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(e.Offset + 6), (ushort)huge);
                return $"length of {e.Name} set to 0x{huge:X}";
            }
            case Kind.UndefinedLengthNeverClosed:
            {
                var pixels = elements[^1];
                if (random.Next(2) == 0 && pixels.LongForm)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(pixels.Offset + 8), 0xFFFFFFFF);
                    return $"length of {pixels.Name} set to undefined, no delimiter";
                }
                // A sequence and an item of undefined length, never delimited: the rest of the file falls inside them.
                bytes = Insert(bytes, pixels.Offset, [.. SequenceHeader(), .. ItemHeader()]);
                return "unclosed sequence of undefined length before the pixel data";
            }
            case Kind.DeepNesting:
            {
                var depth = random.Next(2) == 0 ? random.Next(60, 70) : random.Next(100, 20_000);
                var closed = random.Next(2) == 0;
                var nest = new MemoryStream();
                for (var d = 0; d < depth; d++) nest.Write([.. SequenceHeader(), .. ItemHeader()]);
                if (closed)
                    for (var d = 0; d < depth; d++) nest.Write([.. Delimiter(0xE00D), .. Delimiter(0xE0DD)]);
                bytes = Insert(bytes, elements[^1].Offset, nest.ToArray());
                return $"sequences nested {depth} deep ({(closed ? "closed" : "never closed")}) before the pixel data";
            }
            case Kind.TransferSyntax:
            {
                var uid = OddTransferSyntaxes[random.Next(OddTransferSyntaxes.Length)];
                bytes = SetValue(bytes, 0x0002, 0x0010, "UI", uid);
                return $"transfer syntax UID set to \"{Printable(uid)}\"";
            }
            case Kind.PixelDimensions:
            {
                var (group, element) = PixelDescription[random.Next(PixelDescription.Length)];
                var value = OddDimensions[random.Next(OddDimensions.Length)];
                var valueBytes = new byte[2];
                BinaryPrimitives.WriteUInt16LittleEndian(valueBytes, value);
                bytes = SetValue(bytes, group, element, "US", valueBytes);
                return $"({group:X4},{element:X4}) set to {value}";
            }
            case Kind.Frames:
            {
                var value = OddFrames[random.Next(OddFrames.Length)];
                bytes = SetValue(bytes, 0x0028, 0x0008, "IS", value);
                return $"Number of Frames set to \"{value}\"";
            }
            case Kind.Rescale:
            {
                var slope = OddRescales[random.Next(OddRescales.Length)];
                var intercept = random.Next(2) == 0 ? "0" : OddRescales[random.Next(OddRescales.Length)];
                bytes = SetValue(bytes, 0x0028, 0x1052, "DS", intercept);
                bytes = SetValue(bytes, 0x0028, 0x1053, "DS", slope);
                return $"Rescale Slope \"{slope}\", Intercept \"{intercept}\"";
            }
            case Kind.DuplicateUid:
            {
                // Another source's SOP Instance UID (or its study/series UID): two different objects claiming one identity.
                var (group, element) = Uids[random.Next(3)];
                var other = sources[random.Next(sources.Count)];
                var value = Walk(other).FirstOrDefault(e => e.Group == group && e.Number == element);
                if (value is null) return "no UID to copy";
                bytes = SetValue(bytes, group, element, "UI", other.AsSpan(value.ValueOffset, value.Length).ToArray());
                return $"({group:X4},{element:X4}) copied from another source";
            }
            case Kind.MissingUid:
            {
                var (group, element) = Uids[random.Next(Uids.Length)];
                var target = elements.FirstOrDefault(e => e.Group == group && e.Number == element);
                if (target is null) return "no UID to remove";
                if (random.Next(2) == 0)
                {
                    bytes = SetValue(bytes, group, element, "UI", "");
                    return $"({group:X4},{element:X4}) emptied";
                }
                bytes = Remove(bytes, target);
                return $"({group:X4},{element:X4}) removed";
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    /// <summary>A top-level element of the file as the walker found it.</summary>
    private sealed record Element(ushort Group, ushort Number, string Vr, int Offset, int HeaderLength, int Length)
    {
        public bool LongForm => HeaderLength == 12;
        public int ValueOffset => Offset + HeaderLength;
        public int End => ValueOffset + Length;
        public string Name => $"({Group:X4},{Number:X4}) {Vr}";
    }

    private static bool IsLongForm(string vr) => vr is "OB" or "OD" or "OF" or "OL" or "OV" or "OW" or "SQ" or "SV" or "UC" or "UN" or "UR" or "UT" or "UV";

    /// <summary>
    /// The top-level elements after the 128-byte preamble and "DICM", in file order, up to the first undefined length or
    /// the end of what is readable (so it also walks files an earlier edit damaged; none at all for a stub).
    /// </summary>
    private static List<Element> Walk(byte[] bytes)
    {
        var elements = new List<Element>();
        var offset = 132;
        while (offset + 8 <= bytes.Length)
        {
            var group = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset));
            var element = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset + 2));
            var vr = Encoding.ASCII.GetString(bytes, offset + 4, 2);
            var longForm = IsLongForm(vr);
            if (longForm && offset + 12 > bytes.Length) break;
            long length = longForm ? BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 8)) : BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset + 6));
            var header = longForm ? 12 : 8;
            if (length == 0xFFFFFFFF || offset + header + length > bytes.Length) break;
            elements.Add(new Element(group, element, vr, offset, header, (int)length));
            offset += header + (int)length;
        }
        return elements;
    }

    /// <summary>Sets a short-form element's value (padded to even length), inserting it in tag order when absent.</summary>
    private static byte[] SetValue(byte[] bytes, ushort group, ushort element, string vr, string value)
    {
        var text = Encoding.ASCII.GetBytes(value);
        if (text.Length % 2 == 1) text = [.. text, (byte)(vr == "UI" ? 0 : ' ')];
        return SetValue(bytes, group, element, vr, text);
    }

    private static byte[] SetValue(byte[] bytes, ushort group, ushort element, string vr, byte[] value)
    {
        var elements = Walk(bytes);
        var encoded = new byte[8 + value.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(encoded, group);
        BinaryPrimitives.WriteUInt16LittleEndian(encoded.AsSpan(2), element);
        encoded[4] = (byte)vr[0];
        encoded[5] = (byte)vr[1];
        BinaryPrimitives.WriteUInt16LittleEndian(encoded.AsSpan(6), (ushort)value.Length);
        value.CopyTo(encoded, 8);
        var key = (uint)(group << 16 | element);
        var existing = elements.FirstOrDefault(e => e.Group == group && e.Number == element);
        var result = existing is not null
            ? [.. bytes[..existing.Offset], .. encoded, .. bytes[existing.End..]]
            : Insert(bytes, elements.FirstOrDefault(e => (uint)(e.Group << 16 | e.Number) > key)?.Offset ?? bytes.Length, encoded);
        return group == 2 ? FixGroupLength(result) : result;
    }

    private static byte[] Remove(byte[] bytes, Element element)
    {
        byte[] result = [.. bytes[..element.Offset], .. bytes[element.End..]];
        return element.Group == 2 ? FixGroupLength(result) : result;
    }

    /// <summary>Keeps (0002,0000) File Meta Information Group Length true after an edit of the meta header.</summary>
    private static byte[] FixGroupLength(byte[] bytes)
    {
        var elements = Walk(bytes);
        var groupLength = elements.FirstOrDefault(e => e.Group == 2 && e.Number == 0);
        if (groupLength is null) return bytes;
        var metaEnd = elements.Where(e => e.Group == 2).Max(e => e.End);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(groupLength.ValueOffset), (uint)(metaEnd - groupLength.End));
        return bytes;
    }

    private static byte[] Insert(byte[] bytes, int offset, byte[] inserted) => [.. bytes[..offset], .. inserted, .. bytes[offset..]];

    /// <summary>(0008,1140) Referenced Image Sequence, SQ of undefined length.</summary>
    private static byte[] SequenceHeader() => [0x08, 0x00, 0x40, 0x11, (byte)'S', (byte)'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF];

    private static byte[] ItemHeader() => [0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF];

    private static byte[] Delimiter(ushort element) => [0xFE, 0xFF, (byte)element, (byte)(element >> 8), 0, 0, 0, 0];

    private static string Printable(string value) =>
        string.Concat(value.Select(c => char.IsControl(c) ? $"\\x{(int)c:X2}" : c.ToString(CultureInfo.InvariantCulture)));
}
