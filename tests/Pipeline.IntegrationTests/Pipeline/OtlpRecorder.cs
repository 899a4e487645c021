using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;

namespace Pipeline.IntegrationTests.Pipeline;

/// <summary>
/// An OTLP/HTTP receiver on loopback that keeps every request body (protobuf: strings are raw UTF-8, so a byte search
/// finds any text the services exported) and decodes the spans of <c>/v1/traces</c>.
/// </summary>
internal sealed class OtlpRecorder : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<(string Path, byte[] Body)> _bodies = new();

    public OtlpRecorder()
    {
        var port = FreePort();
        Endpoint = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Endpoint + "/");
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public string Endpoint { get; }

    public IReadOnlyCollection<(string Path, byte[] Body)> Bodies => _bodies;

    /// <summary>Points a service's OTLP export (traces, logs, metrics) here, flushed every half second or so.</summary>
    public void ExportTo(IDictionary<string, string?> settings)
    {
        settings["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint;
        settings["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        settings["OTEL_BSP_SCHEDULE_DELAY"] = "500";
        settings["OTEL_BLRP_SCHEDULE_DELAY"] = "500";
        settings["OTEL_METRIC_EXPORT_INTERVAL"] = "1000";
    }

    public IReadOnlyList<string> Paths => _bodies.Select(b => b.Path).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>Every exported span, decoded from the ExportTraceServiceRequest bodies (opentelemetry-proto trace/v1).</summary>
    public IReadOnlyList<OtlpSpan> Spans() =>
        [.. _bodies.Where(b => b.Path == "/v1/traces").SelectMany(b => ProtoFields.Messages(b.Body, 1).SelectMany(ResourceSpans))];

    private static IEnumerable<OtlpSpan> ResourceSpans(ReadOnlyMemory<byte> resourceSpans)
    {
        var resource = ProtoFields.Messages(resourceSpans, 1).SelectMany(r => Attributes(r, 1)).ToDictionary(StringComparer.Ordinal);
        var service = resource.GetValueOrDefault("service.name", "");
        foreach (var scope in ProtoFields.Messages(resourceSpans, 2))
            foreach (var span in ProtoFields.Messages(scope, 2))
            {
                string Hex(int field) => Convert.ToHexStringLower(ProtoFields.Messages(span, field).FirstOrDefault().Span);
                var status = ProtoFields.Messages(span, 15).FirstOrDefault();
                yield return new OtlpSpan(service, Hex(1), Hex(2), Hex(4), Encoding.UTF8.GetString(ProtoFields.Messages(span, 5).FirstOrDefault().Span),
                    Attributes(span, 9).ToDictionary(StringComparer.Ordinal),
                    [.. ProtoFields.Messages(span, 11).Select(e => Encoding.UTF8.GetString(ProtoFields.Messages(e, 2).FirstOrDefault().Span))],
                    Encoding.UTF8.GetString(ProtoFields.Messages(status, 2).FirstOrDefault().Span));
            }
    }

    /// <summary>KeyValue attributes (field <paramref name="field"/>) with their value as text: string, bool, int or double.</summary>
    private static IEnumerable<KeyValuePair<string, string>> Attributes(ReadOnlyMemory<byte> message, int field) =>
        ProtoFields.Messages(message, field).Select(kv =>
        {
            var key = Encoding.UTF8.GetString(ProtoFields.Messages(kv, 1).FirstOrDefault().Span);
            var value = ProtoFields.Messages(kv, 2).FirstOrDefault();
            var text = ProtoFields.All(value).Select(f => f switch
            {
                (1, _, var bytes) => Encoding.UTF8.GetString(bytes.Span),
                (2, var number, _) => number != 0 ? "true" : "false",
                (3, var number, _) => ((long)number).ToString(CultureInfo.InvariantCulture),
                (4, var number, _) => BitConverter.UInt64BitsToDouble(number).ToString(CultureInfo.InvariantCulture),
                _ => "",
            }).FirstOrDefault("");
            return KeyValuePair.Create(key, text);
        });

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            _bodies.Enqueue((context.Request.Url!.AbsolutePath, body.ToArray()));
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close(); // an empty Export*ServiceResponse
        }
    }

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    public void Dispose() => _listener.Close();

    /// <summary>The protobuf wire format, as far as reading OTLP needs it.</summary>
    private static class ProtoFields
    {
        /// <summary>The length-delimited values of field <paramref name="field"/> (sub-messages, strings, bytes).</summary>
        public static IEnumerable<ReadOnlyMemory<byte>> Messages(ReadOnlyMemory<byte> message, int field) =>
            All(message).Where(f => f.Field == field).Select(f => f.Bytes);

        /// <summary>Every field: its number, its numeric value (varint, fixed64, fixed32) or its bytes (length-delimited).</summary>
        public static IEnumerable<(int Field, ulong Number, ReadOnlyMemory<byte> Bytes)> All(ReadOnlyMemory<byte> message)
        {
            var at = 0;
            while (at < message.Length)
            {
                var tag = Varint(message.Span, ref at);
                var field = (int)(tag >> 3);
                switch (tag & 7)
                {
                    case 0:
                        yield return (field, Varint(message.Span, ref at), default);
                        break;
                    case 1:
                        yield return (field, BitConverter.ToUInt64(message.Span.Slice(at, 8)), default);
                        at += 8;
                        break;
                    case 2:
                        var length = (int)Varint(message.Span, ref at);
                        yield return (field, 0, message.Slice(at, length));
                        at += length;
                        break;
                    case 5:
                        yield return (field, BitConverter.ToUInt32(message.Span.Slice(at, 4)), default);
                        at += 4;
                        break;
                    default:
                        throw new InvalidDataException($"protobuf wire type {tag & 7} at byte {at}");
                }
            }
        }

        private static ulong Varint(ReadOnlySpan<byte> bytes, ref int at)
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = bytes[at++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return value;
            }
        }
    }
}

/// <summary>One exported span: its service, ids (hex; an empty parent for a root), name, attributes, event names and status message.</summary>
internal sealed record OtlpSpan(string Service, string TraceId, string SpanId, string ParentSpanId, string Name,
    IReadOnlyDictionary<string, string> Attributes, IReadOnlyList<string> Events, string StatusMessage);
