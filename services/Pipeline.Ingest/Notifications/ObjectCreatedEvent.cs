using System.Globalization;
using System.Text.Json;
using Pipeline.Contracts;

namespace Pipeline.Ingest.Notifications;

/// <summary>One "object created" record of an S3 bucket notification (the JSON MinIO publishes to AMQP).</summary>
/// <param name="Object">The created object; the key is URL-decoded.</param>
/// <param name="Size">Object size in bytes, when the event says.</param>
/// <param name="ETag">Entity tag, when the event says; tells a re-upload from a duplicate event.</param>
internal sealed record ObjectCreatedEvent(ObjectRef Object, long? Size, string? ETag)
{
    /// <summary>
    /// Reads the "object created" records of an S3 event notification and ignores every other
    /// record (removals, replication...). Keys arrive form-URL-encoded ('+' for space, %XX).
    /// Throws <see cref="FormatException"/> naming what is wrong when the body is not an S3 event.
    /// </summary>
    public static IReadOnlyList<ObjectCreatedEvent> Parse(ReadOnlySpan<byte> json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray());
        }
        catch (JsonException e)
        {
            throw new FormatException($"bucket notification is not JSON: {e.Message}", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("Records", out var records)
                || records.ValueKind != JsonValueKind.Array)
                throw new FormatException("bucket notification has no \"Records\" array");

            var created = new List<ObjectCreatedEvent>();
            foreach (var record in records.EnumerateArray())
            {
                var eventName = record.TryGetProperty("eventName", out var name) ? name.GetString() ?? "" : "";
                // S3 writes "ObjectCreated:Put"; MinIO prefixes "s3:".
                if (!eventName.Replace("s3:", "", StringComparison.Ordinal).StartsWith("ObjectCreated:", StringComparison.Ordinal))
                    continue;
                if (!record.TryGetProperty("s3", out var s3)
                    || !s3.TryGetProperty("bucket", out var bucket) || !bucket.TryGetProperty("name", out var bucketName)
                    || !s3.TryGetProperty("object", out var obj) || !obj.TryGetProperty("key", out var key))
                    throw new FormatException($"bucket notification record '{eventName}' lacks s3.bucket.name or s3.object.key");

                var decodedKey = Uri.UnescapeDataString((key.GetString() ?? "").Replace('+', ' '));
                long? size = obj.TryGetProperty("size", out var s) && s.TryGetInt64(out var n) ? n : null;
                string? etag = obj.TryGetProperty("eTag", out var e) ? e.GetString() : null;
                created.Add(new ObjectCreatedEvent(new ObjectRef(bucketName.GetString() ?? "", decodedKey), size, etag));
            }
            return created;
        }
    }

    /// <summary>
    /// This event as MinIO publishes it to AMQP ("s3:ObjectCreated:Put", key URL-encoded with '/' as %2F), for
    /// callers that play the store's notification target (s3rver sends none).
    /// </summary>
    /// <param name="sequencer">MinIO's per-event ordering token (16 hex digits).</param>
    public byte[] ToMinioJson(string sequencer) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        EventName = "s3:ObjectCreated:Put",
        Key = $"{Object.Bucket}/{Object.Key}",
        Records = new[]
        {
            new
            {
                eventVersion = "2.0",
                eventSource = "minio:s3",
                awsRegion = "",
                eventTime = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
                eventName = "s3:ObjectCreated:Put",
                userIdentity = new { principalId = "minioadmin" },
                s3 = new
                {
                    s3SchemaVersion = "1.0",
                    configurationId = "Config",
                    bucket = new { name = Object.Bucket, ownerIdentity = new { principalId = "minioadmin" }, arn = $"arn:aws:s3:::{Object.Bucket}" },
                    @object = new { key = Uri.EscapeDataString(Object.Key), size = Size, eTag = ETag, contentType = "application/octet-stream", sequencer },
                },
            },
        },
    });
}
