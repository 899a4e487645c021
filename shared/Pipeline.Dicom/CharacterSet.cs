using System.Text;

namespace Pipeline.Dicom;

/// <summary>
/// Specific Character Set (0008,0005) decoding. Default repertoire, ISO_IR 100 (Latin-1) and ISO_IR 192
/// (UTF-8) are exact; the other single-byte ISO 8859 sets map to .NET code pages; anything else
/// (ISO 2022 code extensions, GB18030...) decodes as Latin-1 and is reported in <see cref="Unsupported"/>.
/// </summary>
public sealed class CharacterSet
{
    public static readonly CharacterSet Default = new("", Encoding.Latin1, null);

    private CharacterSet(string term, Encoding encoding, string? unsupported)
    {
        Term = term;
        Encoding = encoding;
        Unsupported = unsupported;
    }

    /// <summary>The defined term as found in the data (first value).</summary>
    public string Term { get; }

    public Encoding Encoding { get; }

    /// <summary>Non-null when the data names a character set this codec only approximates.</summary>
    public string? Unsupported { get; }

    public static CharacterSet FromTerms(IReadOnlyList<string> terms)
    {
        // Several values mean ISO 2022 code extensions; only a lone or repeated single-byte set is exact.
        var distinct = terms.Select(t => t.Trim()).Where(t => t.Length > 0).Distinct().ToArray();
        if (distinct.Length == 0) return Default;
        var term = distinct[0];
        if (distinct.Length > 1)
            return new CharacterSet(term, Encoding.Latin1, string.Join('\\', terms));
        return term switch
        {
            "ISO_IR 6" => Default,
            "ISO_IR 100" => new CharacterSet(term, Encoding.Latin1, null),
            "ISO_IR 192" => new CharacterSet(term, new UTF8Encoding(false, false), null),
            _ when CodePage(term) is { } cp && TryGetEncoding(cp) is { } enc => new CharacterSet(term, enc, null),
            _ => new CharacterSet(term, Encoding.Latin1, term),
        };
    }

    private static int? CodePage(string term) => term switch
    {
        "ISO_IR 101" => 28592, "ISO_IR 109" => 28593, "ISO_IR 110" => 28594, "ISO_IR 144" => 28595,
        "ISO_IR 127" => 28596, "ISO_IR 126" => 28597, "ISO_IR 138" => 28598, "ISO_IR 148" => 28599,
        "ISO_IR 203" => 28605, "ISO_IR 13" => 932, "ISO_IR 166" => 874, "GB18030" => 54936, "GBK" => 936,
        _ => null,
    };

    private static Encoding? TryGetEncoding(int codePage)
    {
        try
        {
            return CodePagesEncodingProvider.Instance.GetEncoding(codePage);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
