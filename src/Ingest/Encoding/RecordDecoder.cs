using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Ingest.Encoding.MessagePack;
using Lib = global::MessagePack;

namespace Ingest.Encoding;

/// <summary>
/// Reads a record value written by the pipeline (docs/wire-format.md) back into its envelope
/// fields and events. Used by `ingest tail` and by tests; reads with MessagePack-CSharp's
/// low-level reader under the project's limits, and hostile input throws
/// <see cref="MessagePackFormatException"/>.
/// </summary>
public static class RecordDecoder
{
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Envelope fields and each event's raw MessagePack map.</summary>
    public static DecodedRecord Decode(ReadOnlyMemory<byte> value)
    {
        var reader = new Lib.MessagePackReader(value);
        try
        {
            return Decode(ref reader);
        }
        catch (Exception e) when (UntrustedMessagePack.IsMalformed(e))
        {
            throw UntrustedMessagePack.Malformed(e, reader.Consumed);
        }
    }

    private static DecodedRecord Decode(ref Lib.MessagePackReader reader)
    {
        var options = MessagePackReaderOptions.Default;
        var fields = reader.ReadMapHeader();
        long version = -1;
        string? host = null, channel = null, source = null;
        List<byte[]>? events = null;
        for (var i = 0; i < fields; i++)
        {
            switch (reader.ReadString())
            {
                case "v":
                    version = reader.ReadInt64();
                    break;
                case "host":
                    host = reader.ReadString();
                    break;
                case "channel":
                    channel = reader.ReadString();
                    break;
                case "source":
                    source = reader.ReadString();
                    break;
                case "events":
                    var count = reader.ReadArrayHeader();
                    if (count > options.MaxCollectionCount)
                    {
                        throw new MessagePackFormatException($"{count} events exceed the limit of {options.MaxCollectionCount}", reader.Consumed);
                    }

                    events = new List<byte[]>(count);
                    for (var e = 0; e < count; e++)
                    {
                        events.Add(reader.ReadRaw().ToArray());
                    }

                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        if (version != RecordEnvelope.SchemaVersion || host is null || channel is null || events is null)
        {
            throw new MessagePackFormatException($"not an ingest record (v={version}, host={host ?? "missing"}, channel={channel ?? "missing"}, events={(events is null ? "missing" : "present")})", 0);
        }

        return new DecodedRecord(version, host, channel, source ?? "", events);
    }

    /// <summary>One JSON object per event: the envelope's host/channel/source, then the event's own fields.</summary>
    public static IEnumerable<string> EventsAsJson(DecodedRecord record)
    {
        foreach (var raw in record.Events)
        {
            yield return EventAsJson(record, raw);
        }
    }

    public static string EventAsJson(DecodedRecord record, ReadOnlyMemory<byte> rawEvent)
    {
        var output = new ArrayBufferWriter<byte>(256 + (rawEvent.Length * 2));
        using (var json = new Utf8JsonWriter(output, JsonOptions))
        {
            json.WriteStartObject();
            json.WriteString("host", record.Host);
            json.WriteString("channel", record.Channel);
            json.WriteString("source", record.Source);
            var reader = new Lib.MessagePackReader(rawEvent);
            try
            {
                var count = reader.ReadMapHeader();
                for (var i = 0; i < count; i++)
                {
                    json.WritePropertyName(reader.ReadString() ?? throw new MessagePackFormatException("nil field name", reader.Consumed));
                    MessagePackJson.WriteValue(ref reader, json);
                }
            }
            catch (Exception e) when (UntrustedMessagePack.IsMalformed(e))
            {
                throw UntrustedMessagePack.Malformed(e, reader.Consumed);
            }

            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(output.WrittenSpan);
    }
}

public sealed record DecodedRecord(long Version, string Host, string Channel, string Source, IReadOnlyList<byte[]> Events);
