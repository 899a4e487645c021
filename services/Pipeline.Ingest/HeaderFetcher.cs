using Pipeline.Contracts;
using Pipeline.Dicom;
using Pipeline.Ingest.Series;
using Pipeline.Storage;

namespace Pipeline.Ingest;

/// <summary>Reads an input object's DICOM header from the store with as few bytes as it can.</summary>
internal sealed class HeaderFetcher(IObjectStore store, int headerReadBytes, DicomReadOptions limits)
{
    /// <summary>
    /// Reads the header from the first bytes when the object is large, else (or when that is not
    /// enough) from the whole object. Storage errors propagate (the loop retries them); anything the
    /// parser throws means the object itself is bad.
    /// </summary>
    /// <exception cref="UnreadableInstanceException">The object is not a usable DICOM instance.</exception>
    public async Task<InstanceHeader> ReadAsync(ObjectRef obj, long? size, CancellationToken ct)
    {
        if (size is { } bytes)
        {
            try
            {
                limits.CheckObjectSize(bytes); // before a byte is fetched
            }
            catch (DicomLimitExceededException e)
            {
                throw new UnreadableInstanceException(e.Message, e);
            }
        }
        if (size > headerReadBytes)
        {
            var head = await store.GetBytesAsync(obj.Bucket, obj.Key, new ByteRange(0, headerReadBytes), ct);
            try
            {
                var header = Parse(obj, head);
                if (header.NotDenoisableReason is null) return header;
            }
            catch (UnreadableInstanceException e) when (e.InnerException is not DicomLimitExceededException)
            {
            }
            // A parse error or "no pixel data" may only mean the header is longer than the range (a limit refusal is final).
        }
        // Bounded too: an event without a size must not make ingest buffer an object past the limit.
        var whole = await store.GetBytesUpToAsync(obj.Bucket, obj.Key, limits.MaxObjectBytes, ct);
        if (whole is null)
        {
            var refusal = limits.ObjectLargerThanLimit();
            throw new UnreadableInstanceException(refusal.Message, refusal);
        }
        return Parse(obj, whole);
    }

    private InstanceHeader Parse(ObjectRef obj, byte[] bytes)
    {
        try
        {
            return InstanceHeaderReader.Read(obj, new MemoryStream(bytes, writable: false), limits);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new UnreadableInstanceException(e.Message, e);
        }
    }
}

/// <summary>The object's bytes are not a usable DICOM instance (whatever the parser threw).</summary>
internal sealed class UnreadableInstanceException(string message, Exception inner) : Exception(message, inner);
