using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using Lib = global::MessagePack;

namespace Ingest.Encoding.MessagePack;

/// <summary>
/// Converts MessagePack to JSON for people to read (<c>ingest tail</c>). Maps become objects
/// whose keys are strings (non-string keys are stringified: integers and floats in decimal,
/// nil/booleans as their JSON literal, bin as base64, collections and extensions as their JSON
/// text); bin becomes a base64 string; a timestamp (extension -1) becomes an RFC 3339 string with
/// nanoseconds; any other extension becomes <c>{"ext":type,"data":"base64"}</c>.
/// </summary>
/// <remarks>
/// JSON cannot carry everything MessagePack can, so a few values are rendered rather than
/// rejected: NaN and infinities become the strings "NaN", "Infinity" and "-Infinity"; a str that is
/// not valid UTF-8 has its bad sequences replaced with U+FFFD; a timestamp outside years 1 to 9999
/// keeps the generic extension form. Malformed MessagePack, or input over the limits of
/// <see cref="MessagePackReaderOptions"/>, throws <see cref="MessagePackFormatException"/>.
/// Reads with MessagePack-CSharp's low-level reader (<see cref="UntrustedMessagePack"/>).
/// </remarks>
public static class MessagePackJson
{
    private const long MinRfc3339Seconds = -62_135_596_800; // 0001-01-01T00:00:00Z

    private const long MaxRfc3339Seconds = 253_402_300_799; // 9999-12-31T23:59:59Z

    private static readonly JsonWriterOptions s_toJsonOptions = new()
    {
        // Output goes to terminals and logs, not into HTML: keep non-ASCII text readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    /// <summary>Converts exactly one MessagePack value to a JSON string; trailing bytes are an error.</summary>
    public static string ToJson(ReadOnlyMemory<byte> msgpack) => ToJson(msgpack, indented: false);

    /// <inheritdoc cref="ToJson(ReadOnlyMemory{byte})"/>
    public static string ToJson(ReadOnlyMemory<byte> msgpack, bool indented)
    {
        var output = new ArrayBufferWriter<byte>(Math.Max(256, msgpack.Length * 2));
        using (var json = new Utf8JsonWriter(output, s_toJsonOptions with { Indented = indented }))
        {
            var reader = new Lib.MessagePackReader(msgpack);
            try
            {
                WriteValue(ref reader, json);
            }
            catch (Exception e) when (UntrustedMessagePack.IsMalformed(e))
            {
                throw UntrustedMessagePack.Malformed(e, reader.Consumed);
            }

            if (!reader.End)
            {
                throw new MessagePackFormatException($"{msgpack.Length - reader.Consumed} bytes follow the value", reader.Consumed);
            }
        }

        return System.Text.Encoding.UTF8.GetString(output.WrittenSpan);
    }

    /// <summary>
    /// Reads one value (with everything nested in it) from <paramref name="reader"/> and writes it
    /// as JSON. The library's errors on malformed input propagate; see <see cref="UntrustedMessagePack.IsMalformed"/>.
    /// </summary>
    public static void WriteValue(ref Lib.MessagePackReader reader, Utf8JsonWriter json, MessagePackReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        options ??= MessagePackReaderOptions.Default;
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
                if (reader.NextCode == Lib.MessagePackCode.UInt64)
                {
                    json.WriteNumberValue(reader.ReadUInt64());
                }
                else
                {
                    json.WriteNumberValue(reader.ReadInt64());
                }

                break;
            case Lib.MessagePackType.Float:
                WriteFloat(ref reader, json);
                break;
            case Lib.MessagePackType.String:
                WriteUtf8(UntrustedMessagePack.ReadStringSpan(ref reader, options), json, propertyName: false);
                break;
            case Lib.MessagePackType.Binary:
                json.WriteBase64StringValue(UntrustedMessagePack.ReadBinarySpan(ref reader, options));
                break;
            case Lib.MessagePackType.Array:
                WriteArray(ref reader, json, options);
                break;
            case Lib.MessagePackType.Map:
                WriteMap(ref reader, json, options);
                break;
            case Lib.MessagePackType.Extension:
                WriteExtension(ref reader, json, options);
                break;
            default:
                throw new MessagePackFormatException($"invalid code 0x{reader.NextCode:x2}", reader.Consumed);
        }
    }

    private static void WriteArray(ref Lib.MessagePackReader reader, Utf8JsonWriter json, MessagePackReaderOptions options)
    {
        int count = reader.ReadArrayHeader();
        UntrustedMessagePack.EnterCollection(ref reader, options, count);
        json.WriteStartArray();
        for (int i = 0; i < count; i++)
        {
            WriteValue(ref reader, json, options);
        }

        json.WriteEndArray();
        UntrustedMessagePack.ExitCollection(ref reader);
    }

    private static void WriteMap(ref Lib.MessagePackReader reader, Utf8JsonWriter json, MessagePackReaderOptions options)
    {
        int count = reader.ReadMapHeader();
        UntrustedMessagePack.EnterCollection(ref reader, options, count);
        json.WriteStartObject();
        for (int i = 0; i < count; i++)
        {
            WriteKey(ref reader, json, options);
            WriteValue(ref reader, json, options);
        }

        json.WriteEndObject();
        UntrustedMessagePack.ExitCollection(ref reader);
    }

    private static void WriteKey(ref Lib.MessagePackReader reader, Utf8JsonWriter json, MessagePackReaderOptions options)
    {
        Span<byte> scratch = stackalloc byte[32];
        int written;
        switch (reader.NextMessagePackType)
        {
            case Lib.MessagePackType.String:
                WriteUtf8(UntrustedMessagePack.ReadStringSpan(ref reader, options), json, propertyName: true);
                return;
            case Lib.MessagePackType.Integer:
                _ = reader.NextCode == Lib.MessagePackCode.UInt64
                    ? Utf8Formatter.TryFormat(reader.ReadUInt64(), scratch, out written)
                    : Utf8Formatter.TryFormat(reader.ReadInt64(), scratch, out written);
                json.WritePropertyName(scratch[..written]);
                return;
            case Lib.MessagePackType.Nil:
                reader.ReadNil();
                json.WritePropertyName("null"u8);
                return;
            case Lib.MessagePackType.Boolean:
                json.WritePropertyName(reader.ReadBoolean() ? "true"u8 : "false"u8);
                return;
            case Lib.MessagePackType.Float:
                double value = reader.ReadDouble();
                value.TryFormat(scratch, out written, "R", CultureInfo.InvariantCulture);
                json.WritePropertyName(scratch[..written]);
                return;
            case Lib.MessagePackType.Binary:
                json.WritePropertyName(Convert.ToBase64String(UntrustedMessagePack.ReadBinarySpan(ref reader, options)));
                return;
            default:
                // A collection or extension key: use its own JSON text as the name.
                var text = new ArrayBufferWriter<byte>();
                using (var nested = new Utf8JsonWriter(text, new JsonWriterOptions { Encoder = json.Options.Encoder }))
                {
                    WriteValue(ref reader, nested, options);
                }

                WriteUtf8(text.WrittenSpan, json, propertyName: true);
                return;
        }
    }

    private static void WriteFloat(ref Lib.MessagePackReader reader, Utf8JsonWriter json)
    {
        if (reader.NextCode == Lib.MessagePackCode.Float32)
        {
            float single = reader.ReadSingle();
            if (float.IsFinite(single))
            {
                json.WriteNumberValue(single);
                return;
            }

            WriteNonFinite(single, json);
            return;
        }

        double value = reader.ReadDouble();
        if (double.IsFinite(value))
        {
            json.WriteNumberValue(value);
            return;
        }

        WriteNonFinite(value, json);
    }

    private static void WriteNonFinite(double value, Utf8JsonWriter json) =>
        json.WriteStringValue(double.IsNaN(value) ? "NaN"u8 : value > 0 ? "Infinity"u8 : "-Infinity"u8);

    private static void WriteExtension(ref Lib.MessagePackReader reader, Utf8JsonWriter json, MessagePackReaderOptions options)
    {
        var start = reader.Consumed;
        var header = reader.ReadExtensionFormatHeader();
        if (header.Length > options.MaxBinaryLength)
        {
            throw new MessagePackFormatException($"extension of {header.Length} bytes exceeds the limit of {options.MaxBinaryLength}", start);
        }

        var data = reader.ReadRaw(header.Length).FirstSpan;

        // A timestamp JSON cannot show is written in the generic form instead.
        if (header.TypeCode == Lib.ReservedMessagePackExtensionTypeCode.DateTime
            && TryParseTimestamp(data, out long seconds, out uint nanoseconds)
            && TryFormatRfc3339(seconds, nanoseconds, out RfcBuffer text, out int length))
        {
            json.WriteStringValue(text[..length]);
            return;
        }

        json.WriteStartObject();
        json.WriteNumber("ext"u8, header.TypeCode);
        json.WriteBase64String("data"u8, data);
        json.WriteEndObject();
    }

    /// <summary>The spec's three timestamp layouts: 32-bit seconds; 30-bit ns + 34-bit seconds; 32-bit ns + 64-bit seconds.</summary>
    private static bool TryParseTimestamp(ReadOnlySpan<byte> data, out long seconds, out uint nanoseconds)
    {
        switch (data.Length)
        {
            case 4:
                seconds = BinaryPrimitives.ReadUInt32BigEndian(data);
                nanoseconds = 0;
                return true;
            case 8:
                var packed = BinaryPrimitives.ReadUInt64BigEndian(data);
                seconds = (long)(packed & 0x3_ffff_ffffUL);
                nanoseconds = (uint)(packed >> 34);
                return nanoseconds < 1_000_000_000;
            case 12:
                nanoseconds = BinaryPrimitives.ReadUInt32BigEndian(data);
                seconds = BinaryPrimitives.ReadInt64BigEndian(data[4..]);
                return nanoseconds < 1_000_000_000;
            default:
                seconds = 0;
                nanoseconds = 0;
                return false;
        }
    }

    /// <summary>A timestamp that did not fit RFC 3339 (before year 1 or after 9999) falls back to the generic form.</summary>
    private static bool TryFormatRfc3339(long seconds, uint nanoseconds, out RfcBuffer buffer, out int length)
    {
        buffer = default;
        length = 0;
        if (seconds < MinRfc3339Seconds || seconds > MaxRfc3339Seconds)
        {
            return false;
        }

        var whole = DateTimeOffset.FromUnixTimeSeconds(seconds);
        Span<byte> text = buffer;
        whole.UtcDateTime.TryFormat(text, out length, "yyyy'-'MM'-'dd'T'HH':'mm':'ss", CultureInfo.InvariantCulture);
        if (nanoseconds != 0)
        {
            text[length++] = (byte)'.';
            Utf8Formatter.TryFormat(nanoseconds, text[length..], out int digits, new StandardFormat('D', 9));
            length += digits;
            while (text[length - 1] == (byte)'0')
            {
                length--;
            }
        }

        text[length++] = (byte)'Z';
        return true;
    }

    /// <summary>Writes UTF-8 text, repairing invalid sequences rather than failing (the writer rejects them).</summary>
    private static void WriteUtf8(ReadOnlySpan<byte> utf8, Utf8JsonWriter json, bool propertyName)
    {
        if (Utf8.IsValid(utf8))
        {
            if (propertyName)
            {
                json.WritePropertyName(utf8);
            }
            else
            {
                json.WriteStringValue(utf8);
            }

            return;
        }

        string repaired = System.Text.Encoding.UTF8.GetString(utf8);
        if (propertyName)
        {
            json.WritePropertyName(repaired);
        }
        else
        {
            json.WriteStringValue(repaired);
        }
    }

    /// <summary>Room for "yyyy-MM-ddTHH:mm:ss.fffffffffZ".</summary>
    [System.Runtime.CompilerServices.InlineArray(32)]
    private struct RfcBuffer
    {
        private byte _element0;
    }
}
