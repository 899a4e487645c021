namespace Pipeline.Dicom;

/// <summary>Base of every error the DICOM codec raises; callers catch this one type.</summary>
public class DicomException : Exception
{
    public DicomException(string message) : base(message) { }
    public DicomException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>Malformed or truncated encoding; names the byte offset and, when known, the tag.</summary>
public class DicomFormatException : DicomException
{
    public DicomFormatException(string message, long offset, DicomTag? tag = null)
        : base(tag is { } t ? $"{message} at {t} offset {offset}" : $"{message} at offset {offset}")
    {
        Offset = offset;
        Tag = tag;
    }

    public long Offset { get; }
    public DicomTag? Tag { get; }
}

/// <summary>A configured safety limit of <see cref="DicomReadOptions"/> was exceeded; <see cref="Limit"/> names it.</summary>
public sealed class DicomLimitExceededException : DicomFormatException
{
    public DicomLimitExceededException(string limit, string message, long offset, DicomTag? tag = null) : base(message, offset, tag)
    {
        Limit = limit;
    }

    /// <summary>The <see cref="DicomReadOptions"/> property that refused the input, e.g. "MaxPixelsPerFrame".</summary>
    public string Limit { get; }
}

/// <summary>The transfer syntax is known or unknown but not decodable by this codec.</summary>
public sealed class DicomUnsupportedTransferSyntaxException : DicomException
{
    public DicomUnsupportedTransferSyntaxException(string uid, string name)
        : base($"unsupported transfer syntax {uid} ({name})")
    {
        Uid = uid;
        Name = name;
    }

    public string Uid { get; }
    public string Name { get; }
}

/// <summary>Pixel data that cannot be turned into numbers: inconsistent attributes, short data, corrupt codestream.</summary>
public class DicomPixelDataException : DicomException
{
    public DicomPixelDataException(string message) : base(message) { }
    public DicomPixelDataException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A required attribute is absent or its value cannot be parsed as asked.</summary>
public sealed class DicomAttributeException : DicomException
{
    public DicomAttributeException(DicomTag tag, string message) : base($"{tag} {DicomDictionary.Lookup(tag).Keyword}: {message}")
    {
        Tag = tag;
    }

    public DicomTag Tag { get; }
}
