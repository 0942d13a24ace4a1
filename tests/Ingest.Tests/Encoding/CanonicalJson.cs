using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Ingest.Encoding.MessagePack;

namespace Ingest.Tests.Encoding;

/// <summary>
/// A lossless, encoding-independent text form of a MessagePack value, produced identically by
/// the tests' Python oracle: nil/booleans as JSON literals, integers as {"i":"decimal"}, floats as
/// {"f":"IEEE 754 double bits in hex"}, str as {"s":"UTF-8 hex"}, bin as {"b":"hex"}, timestamps as
/// {"t":[seconds,nanoseconds]}, other extensions as {"e":[type,"hex"]}, arrays as JSON arrays and
/// maps as {"m":[[key,value],...]} (order and duplicate keys kept).
/// </summary>
internal static class CanonicalJson
{
    public static string FromMessagePack(ReadOnlySpan<byte> msgpack)
    {
        var output = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(output))
        {
            var reader = new MessagePackReader(msgpack);
            Write(ref reader, json);
            Assert.True(reader.End, "trailing bytes");
        }

        return System.Text.Encoding.UTF8.GetString(output.WrittenSpan);
    }

    public static void Write(ref MessagePackReader reader, Utf8JsonWriter json)
    {
        switch (reader.PeekType())
        {
            case MessagePackType.Nil:
                reader.ReadNil();
                json.WriteNullValue();
                break;
            case MessagePackType.Boolean:
                json.WriteBooleanValue(reader.ReadBoolean());
                break;
            case MessagePackType.Integer:
                string digits = reader.TryReadInt64(out long signed)
                    ? signed.ToString(CultureInfo.InvariantCulture)
                    : reader.ReadUInt64().ToString(CultureInfo.InvariantCulture);
                WriteTagged(json, "i", digits);
                break;
            case MessagePackType.Float:
                WriteFloat(json, reader.ReadDouble());
                break;
            case MessagePackType.String:
                WriteTagged(json, "s", Convert.ToHexStringLower(reader.ReadStringSpan()));
                break;
            case MessagePackType.Binary:
                WriteTagged(json, "b", Convert.ToHexStringLower(reader.ReadBinarySpan()));
                break;
            case MessagePackType.Extension:
                if (reader.TryReadTimestamp(out long seconds, out uint nanoseconds))
                {
                    WriteTimestamp(json, seconds, nanoseconds);
                }
                else
                {
                    ReadOnlySpan<byte> data = reader.ReadExtension(out sbyte type);
                    WriteExtension(json, type, data);
                }

                break;
            case MessagePackType.Array:
                int count = reader.ReadArrayHeader();
                json.WriteStartArray();
                for (int i = 0; i < count; i++)
                {
                    Write(ref reader, json);
                }

                json.WriteEndArray();
                break;
            case MessagePackType.Map:
                int pairs = reader.ReadMapHeader();
                StartMap(json);
                for (int i = 0; i < pairs; i++)
                {
                    json.WriteStartArray();
                    Write(ref reader, json);
                    Write(ref reader, json);
                    json.WriteEndArray();
                }

                EndMap(json);
                break;
        }
    }

    public static void WriteInteger(Utf8JsonWriter json, long value) => WriteTagged(json, "i", value.ToString(CultureInfo.InvariantCulture));

    public static void WriteInteger(Utf8JsonWriter json, ulong value) => WriteTagged(json, "i", value.ToString(CultureInfo.InvariantCulture));

    public static void WriteFloat(Utf8JsonWriter json, double value) =>
        WriteTagged(json, "f", BitConverter.DoubleToUInt64Bits(value).ToString("x16", CultureInfo.InvariantCulture));

    public static void WriteString(Utf8JsonWriter json, string value) =>
        WriteTagged(json, "s", Convert.ToHexStringLower(System.Text.Encoding.UTF8.GetBytes(value)));

    public static void WriteBinary(Utf8JsonWriter json, ReadOnlySpan<byte> value) => WriteTagged(json, "b", Convert.ToHexStringLower(value));

    public static void WriteTimestamp(Utf8JsonWriter json, long seconds, uint nanoseconds)
    {
        json.WriteStartObject();
        json.WriteStartArray("t");
        json.WriteNumberValue(seconds);
        json.WriteNumberValue(nanoseconds);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static void WriteExtension(Utf8JsonWriter json, sbyte type, ReadOnlySpan<byte> data)
    {
        json.WriteStartObject();
        json.WriteStartArray("e");
        json.WriteNumberValue(type);
        json.WriteStringValue(Convert.ToHexStringLower(data));
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>Opens a map; each pair is then a two-element array.</summary>
    public static void StartMap(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteStartArray("m");
    }

    public static void EndMap(Utf8JsonWriter json)
    {
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteTagged(Utf8JsonWriter json, string tag, string value)
    {
        json.WriteStartObject();
        json.WriteString(tag, value);
        json.WriteEndObject();
    }
}
