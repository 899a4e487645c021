namespace Pipeline.Dicom;

/// <summary>Value Representations of PS3.5 section 6.2.</summary>
public enum DicomVR : ushort
{
    AE = 'A' << 8 | 'E', AS = 'A' << 8 | 'S', AT = 'A' << 8 | 'T', CS = 'C' << 8 | 'S',
    DA = 'D' << 8 | 'A', DS = 'D' << 8 | 'S', DT = 'D' << 8 | 'T', FD = 'F' << 8 | 'D',
    FL = 'F' << 8 | 'L', IS = 'I' << 8 | 'S', LO = 'L' << 8 | 'O', LT = 'L' << 8 | 'T',
    OB = 'O' << 8 | 'B', OD = 'O' << 8 | 'D', OF = 'O' << 8 | 'F', OL = 'O' << 8 | 'L',
    OV = 'O' << 8 | 'V', OW = 'O' << 8 | 'W', PN = 'P' << 8 | 'N', SH = 'S' << 8 | 'H',
    SL = 'S' << 8 | 'L', SQ = 'S' << 8 | 'Q', SS = 'S' << 8 | 'S', ST = 'S' << 8 | 'T',
    SV = 'S' << 8 | 'V', TM = 'T' << 8 | 'M', UC = 'U' << 8 | 'C', UI = 'U' << 8 | 'I',
    UL = 'U' << 8 | 'L', UN = 'U' << 8 | 'N', UR = 'U' << 8 | 'R', US = 'U' << 8 | 'S',
    UT = 'U' << 8 | 'T', UV = 'U' << 8 | 'V',
}

/// <summary>Encoding rules per VR: header size, byte swapping, padding, text handling.</summary>
public static class DicomVRInfo
{
    /// <summary>True when Explicit VR encodes the VR with 2 reserved bytes and a 32-bit length.</summary>
    public static bool HasLongLength(this DicomVR vr) => vr is DicomVR.OB or DicomVR.OD or DicomVR.OF
        or DicomVR.OL or DicomVR.OV or DicomVR.OW or DicomVR.SQ or DicomVR.UC or DicomVR.UN
        or DicomVR.UR or DicomVR.UT or DicomVR.SV or DicomVR.UV;

    /// <summary>Size of the unit that changes byte order between little and big endian (1 = none).</summary>
    public static int SwapUnit(this DicomVR vr) => vr switch
    {
        DicomVR.US or DicomVR.SS or DicomVR.OW or DicomVR.AT => 2,
        DicomVR.UL or DicomVR.SL or DicomVR.FL or DicomVR.OF or DicomVR.OL => 4,
        DicomVR.FD or DicomVR.OD or DicomVR.SV or DicomVR.UV or DicomVR.OV => 8,
        _ => 1,
    };

    /// <summary>Character-string VRs; their values are text and padded with a space.</summary>
    public static bool IsString(this DicomVR vr) => vr is DicomVR.AE or DicomVR.AS or DicomVR.CS
        or DicomVR.DA or DicomVR.DS or DicomVR.DT or DicomVR.IS or DicomVR.LO or DicomVR.LT
        or DicomVR.PN or DicomVR.SH or DicomVR.ST or DicomVR.TM or DicomVR.UC or DicomVR.UI
        or DicomVR.UR or DicomVR.UT;

    /// <summary>VRs whose text is decoded with the Specific Character Set (the rest are ASCII).</summary>
    public static bool UsesCharacterSet(this DicomVR vr) => vr is DicomVR.LO or DicomVR.LT
        or DicomVR.PN or DicomVR.SH or DicomVR.ST or DicomVR.UC or DicomVR.UT;

    /// <summary>Free text VRs that hold a single value (a backslash is not a separator).</summary>
    public static bool IsSingleValuedText(this DicomVR vr) => vr is DicomVR.LT or DicomVR.ST
        or DicomVR.UT or DicomVR.UR;

    public static byte PaddingByte(this DicomVR vr) => vr.IsString() && vr != DicomVR.UI ? (byte)' ' : (byte)0;

    public static string Code(this DicomVR vr) => new([(char)((ushort)vr >> 8), (char)((ushort)vr & 0xFF)]);

    /// <summary>Parses two VR characters; false for anything that is not a VR of the standard.</summary>
    public static bool TryParse(byte c0, byte c1, out DicomVR vr)
    {
        vr = (DicomVR)(ushort)(c0 << 8 | c1);
        return Known[(ushort)vr];
    }

    private static readonly bool[] Known = BuildKnown();

    private static bool[] BuildKnown()
    {
        var known = new bool[65536];
        foreach (var vr in Enum.GetValues<DicomVR>()) known[(ushort)vr] = true;
        return known;
    }
}
