using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

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
/// keeps the generic extension form. Malformed MessagePack throws <see cref="MessagePackFormatException"/>.
/// </remarks>
public static class MessagePackJson
{
    private static readonly JsonWriterOptions s_toJsonOptions = new()
    {
        // Output goes to terminals and logs, not into HTML: keep non-ASCII text readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    /// <summary>Converts exactly one MessagePack value to a JSON string; trailing bytes are an error.</summary>
    public static string ToJson(ReadOnlySpan<byte> msgpack) => ToJson(msgpack, indented: false);

    /// <inheritdoc cref="ToJson(ReadOnlySpan{byte})"/>
    public static string ToJson(ReadOnlySpan<byte> msgpack, bool indented)
    {
        var output = new ArrayBufferWriter<byte>(Math.Max(256, msgpack.Length * 2));
        using (var json = new Utf8JsonWriter(output, s_toJsonOptions with { Indented = indented }))
        {
            var reader = new MessagePackReader(msgpack);
            WriteValue(ref reader, json);
            if (!reader.End)
            {
                throw new MessagePackFormatException($"{reader.Remaining} bytes follow the value", reader.Position);
            }
        }

        return System.Text.Encoding.UTF8.GetString(output.WrittenSpan);
    }

    /// <summary>Reads one value (with everything nested in it) from <paramref name="reader"/> and writes it as JSON.</summary>
    public static void WriteValue(ref MessagePackReader reader, Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(json);
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
                if (reader.TryReadInt64(out long signed))
                {
                    json.WriteNumberValue(signed);
                }
                else
                {
                    json.WriteNumberValue(reader.ReadUInt64());
                }

                break;
            case MessagePackType.Float:
                WriteFloat(ref reader, json);
                break;
            case MessagePackType.String:
                WriteUtf8(reader.ReadStringSpan(), json, propertyName: false);
                break;
            case MessagePackType.Binary:
                json.WriteBase64StringValue(reader.ReadBinarySpan());
                break;
            case MessagePackType.Array:
                WriteArray(ref reader, json);
                break;
            case MessagePackType.Map:
                WriteMap(ref reader, json);
                break;
            case MessagePackType.Extension:
                WriteExtension(ref reader, json);
                break;
        }
    }

    private static void WriteArray(ref MessagePackReader reader, Utf8JsonWriter json)
    {
        int count = reader.ReadArrayHeader();
        reader.EnterCollection();
        json.WriteStartArray();
        for (int i = 0; i < count; i++)
        {
            WriteValue(ref reader, json);
        }

        json.WriteEndArray();
        reader.ExitCollection();
    }

    private static void WriteMap(ref MessagePackReader reader, Utf8JsonWriter json)
    {
        int count = reader.ReadMapHeader();
        reader.EnterCollection();
        json.WriteStartObject();
        for (int i = 0; i < count; i++)
        {
            WriteKey(ref reader, json);
            WriteValue(ref reader, json);
        }

        json.WriteEndObject();
        reader.ExitCollection();
    }

    private static void WriteKey(ref MessagePackReader reader, Utf8JsonWriter json)
    {
        Span<byte> scratch = stackalloc byte[32];
        int written;
        switch (reader.PeekType())
        {
            case MessagePackType.String:
                WriteUtf8(reader.ReadStringSpan(), json, propertyName: true);
                return;
            case MessagePackType.Integer:
                _ = reader.TryReadInt64(out long signed)
                    ? Utf8Formatter.TryFormat(signed, scratch, out written)
                    : Utf8Formatter.TryFormat(reader.ReadUInt64(), scratch, out written);
                json.WritePropertyName(scratch[..written]);
                return;
            case MessagePackType.Nil:
                reader.ReadNil();
                json.WritePropertyName("null"u8);
                return;
            case MessagePackType.Boolean:
                json.WritePropertyName(reader.ReadBoolean() ? "true"u8 : "false"u8);
                return;
            case MessagePackType.Float:
                double value = reader.ReadDouble();
                value.TryFormat(scratch, out written, "R", CultureInfo.InvariantCulture);
                json.WritePropertyName(scratch[..written]);
                return;
            case MessagePackType.Binary:
                json.WritePropertyName(Convert.ToBase64String(reader.ReadBinarySpan()));
                return;
            default:
                // A collection or extension key: use its own JSON text as the name.
                var text = new ArrayBufferWriter<byte>();
                using (var nested = new Utf8JsonWriter(text, new JsonWriterOptions { Encoder = json.Options.Encoder }))
                {
                    WriteValue(ref reader, nested);
                }

                WriteUtf8(text.WrittenSpan, json, propertyName: true);
                return;
        }
    }

    private static void WriteFloat(ref MessagePackReader reader, Utf8JsonWriter json)
    {
        if (reader.PeekCode() == MessagePackCode.Float32)
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

    private static void WriteExtension(ref MessagePackReader reader, Utf8JsonWriter json)
    {
        // Probe on a copy: a timestamp JSON cannot show is written in the generic form instead.
        MessagePackReader probe = reader;
        if (probe.TryReadTimestamp(out long seconds, out uint nanoseconds)
            && TryFormatRfc3339(seconds, nanoseconds, out RfcBuffer text, out int length))
        {
            reader = probe;
            json.WriteStringValue(text[..length]);
            return;
        }

        ReadOnlySpan<byte> data = reader.ReadExtension(out sbyte type);
        json.WriteStartObject();
        json.WriteNumber("ext"u8, type);
        json.WriteBase64String("data"u8, data);
        json.WriteEndObject();
    }

    /// <summary>A timestamp that did not fit RFC 3339 (before year 1 or after 9999) falls back to the generic form.</summary>
    private static bool TryFormatRfc3339(long seconds, uint nanoseconds, out RfcBuffer buffer, out int length)
    {
        buffer = default;
        length = 0;
        if (!MessagePackReader.TryConvertTimestamp(seconds, 0, out DateTimeOffset whole))
        {
            return false;
        }

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
