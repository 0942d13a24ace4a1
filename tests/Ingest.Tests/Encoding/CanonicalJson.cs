using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using Lib = global::MessagePack;

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
    /// <summary>Reads with MessagePack-CSharp's reader, the one the project reads with.</summary>
    public static string FromMessagePack(ReadOnlyMemory<byte> msgpack)
    {
        var output = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(output))
        {
            var reader = new Lib.MessagePackReader(msgpack);
            Write(ref reader, json);
            Assert.True(reader.End, "trailing bytes");
        }

        return System.Text.Encoding.UTF8.GetString(output.WrittenSpan);
    }

    public static void Write(ref Lib.MessagePackReader reader, Utf8JsonWriter json)
    {
        switch (reader.NextMessagePackType)
        {
            case Lib.MessagePackType.Nil:
                reader.ReadNil();
                json.WriteNullValue();
                break;
            case Lib.MessagePackType.Boolean:
                json.WriteBooleanValue(reader.ReadBoolean());
                break;
            case Lib.MessagePackType.Integer:
                string digits = reader.NextCode == Lib.MessagePackCode.UInt64
                    ? reader.ReadUInt64().ToString(CultureInfo.InvariantCulture)
                    : reader.ReadInt64().ToString(CultureInfo.InvariantCulture);
                WriteTagged(json, "i", digits);
                break;
            case Lib.MessagePackType.Float:
                WriteFloat(json, reader.ReadDouble());
                break;
            case Lib.MessagePackType.String:
                WriteTagged(json, "s", Convert.ToHexStringLower(reader.ReadStringSequence()!.Value.ToArray()));
                break;
            case Lib.MessagePackType.Binary:
                WriteTagged(json, "b", Convert.ToHexStringLower(reader.ReadBytes()!.Value.ToArray()));
                break;
            case Lib.MessagePackType.Extension:
                var header = reader.ReadExtensionFormatHeader();
                byte[] data = reader.ReadRaw(header.Length).ToArray();
                if (header.TypeCode == -1 && TryTimestamp(data, out long seconds, out uint nanoseconds))
                {
                    WriteTimestamp(json, seconds, nanoseconds);
                }
                else
                {
                    WriteExtension(json, header.TypeCode, data);
                }

                break;
            case Lib.MessagePackType.Array:
                int count = reader.ReadArrayHeader();
                json.WriteStartArray();
                for (int i = 0; i < count; i++)
                {
                    Write(ref reader, json);
                }

                json.WriteEndArray();
                break;
            case Lib.MessagePackType.Map:
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
            default:
                throw new InvalidDataException($"code 0x{reader.NextCode:x2}");
        }
    }

    /// <summary>The spec's timestamp 32, 64 and 96 layouts.</summary>
    public static bool TryTimestamp(ReadOnlySpan<byte> data, out long seconds, out uint nanoseconds)
    {
        (seconds, nanoseconds) = data.Length switch
        {
            4 => (BinaryPrimitives.ReadUInt32BigEndian(data), 0u),
            8 => ((long)(BinaryPrimitives.ReadUInt64BigEndian(data) & 0x3_ffff_ffffUL), (uint)(BinaryPrimitives.ReadUInt64BigEndian(data) >> 34)),
            12 => (BinaryPrimitives.ReadInt64BigEndian(data[4..]), BinaryPrimitives.ReadUInt32BigEndian(data)),
            _ => (0L, uint.MaxValue),
        };
        return nanoseconds < 1_000_000_000;
    }

    /// <summary>The data of a timestamp extension in its smallest form (the spec's rule), for documents the tests build.</summary>
    public static byte[] TimestampData(long seconds, uint nanoseconds)
    {
        if ((ulong)seconds >> 34 == 0)
        {
            if (nanoseconds == 0 && (ulong)seconds <= uint.MaxValue)
            {
                byte[] t32 = new byte[4];
                BinaryPrimitives.WriteUInt32BigEndian(t32, (uint)seconds);
                return t32;
            }

            byte[] t64 = new byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(t64, ((ulong)nanoseconds << 34) | (ulong)seconds);
            return t64;
        }

        byte[] t96 = new byte[12];
        BinaryPrimitives.WriteUInt32BigEndian(t96, nanoseconds);
        BinaryPrimitives.WriteInt64BigEndian(t96.AsSpan(4), seconds);
        return t96;
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
