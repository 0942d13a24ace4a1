using System.Globalization;
using System.Text.Json;
using Ingest.Encoding.MessagePack;

namespace Ingest.Tests.Encoding;

/// <summary>
/// The fixtures of the npm package msgpack-test-suite (vendored in Fixtures/): for every value, the
/// writer must produce one of the accepted encodings and the reader must read all of them.
/// </summary>
public class MessagePackTestSuiteTests
{
    private static readonly Lazy<JsonDocument> s_suite = new(() =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Encoding", "Fixtures", "msgpack-test-suite.json"))));

    public static TheoryData<string, int> Cases()
    {
        var cases = new TheoryData<string, int>();
        foreach (JsonProperty group in s_suite.Value.RootElement.EnumerateObject())
        {
            for (int i = 0; i < group.Value.GetArrayLength(); i++)
            {
                cases.Add(group.Name, i);
            }
        }

        return cases;
    }

    [Fact]
    public void SuiteHasEveryGroupThisTestUnderstands()
    {
        string[] groups = [.. s_suite.Value.RootElement.EnumerateObject().Select(g => g.Name)];
        Assert.Equal(
            ["10.nil.yaml", "11.bool.yaml", "12.binary.yaml", "20.number-positive.yaml", "21.number-negative.yaml",
             "22.number-float.yaml", "23.number-bignum.yaml", "30.string-ascii.yaml", "31.string-utf8.yaml",
             "32.string-emoji.yaml", "40.array.yaml", "41.map.yaml", "42.nested.yaml", "50.timestamp.yaml", "60.ext.yaml"],
            groups.Order(StringComparer.Ordinal));
        Assert.True(Cases().Count > 80);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void WriterProducesAnAcceptedEncoding(string group, int index)
    {
        JsonElement entry = Entry(group, index);
        string[] accepted = Encodings(entry);
        using var writer = new MessagePackWriter(16);
        Write(entry, writer);
        Assert.Contains(Hex.Format(writer.WrittenSpan), accepted);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ReaderReadsEveryAcceptedEncoding(string group, int index)
    {
        JsonElement entry = Entry(group, index);
        foreach (string encoding in Encodings(entry))
        {
            byte[] bytes = Hex.Parse(encoding);
            var reader = new MessagePackReader(bytes);
            AssertReads(entry, ref reader, encoding);
            Assert.True(reader.End, encoding);

            // Skip must land on the same place as a full read, and the JSON view must accept it.
            reader = new MessagePackReader(bytes);
            reader.Skip();
            Assert.True(reader.End, encoding);
            Assert.NotEmpty(MessagePackJson.ToJson(bytes));
        }
    }

    private static JsonElement Entry(string group, int index) => s_suite.Value.RootElement.GetProperty(group)[index];

    private static string[] Encodings(JsonElement entry) => [.. entry.GetProperty("msgpack").EnumerateArray().Select(e => e.GetString()!)];

    private static void Write(JsonElement entry, MessagePackWriter writer)
    {
        if (entry.TryGetProperty("timestamp", out JsonElement timestamp))
        {
            writer.WriteTimestamp(timestamp[0].GetInt64(), timestamp[1].GetUInt32());
        }
        else if (entry.TryGetProperty("ext", out JsonElement ext))
        {
            writer.WriteExtension(ext[0].GetSByte(), Hex.Parse(ext[1].GetString()!));
        }
        else if (entry.TryGetProperty("binary", out JsonElement binary))
        {
            writer.WriteBinary(Hex.Parse(binary.GetString()!));
        }
        else if (entry.TryGetProperty("bignum", out JsonElement bignum))
        {
            string digits = bignum.GetString()!;
            if (digits.StartsWith('-'))
            {
                writer.Write(long.Parse(digits, CultureInfo.InvariantCulture));
            }
            else
            {
                writer.Write(ulong.Parse(digits, CultureInfo.InvariantCulture));
            }
        }
        else
        {
            ExpectedValue(entry).WriteTo(writer);
        }
    }

    private static void AssertReads(JsonElement entry, ref MessagePackReader reader, string encoding)
    {
        if (entry.TryGetProperty("timestamp", out JsonElement timestamp))
        {
            reader.ReadTimestamp(out long seconds, out uint nanoseconds);
            Assert.Equal(timestamp[0].GetInt64(), seconds);
            Assert.Equal(timestamp[1].GetUInt32(), nanoseconds);
        }
        else if (entry.TryGetProperty("ext", out JsonElement ext))
        {
            ReadOnlySpan<byte> data = reader.ReadExtension(out sbyte type);
            Assert.Equal(ext[0].GetSByte(), type);
            Assert.Equal(ext[1].GetString(), Hex.Format(data));
        }
        else if (entry.TryGetProperty("binary", out JsonElement binary))
        {
            Assert.Equal(binary.GetString(), Hex.Format(reader.ReadBinarySpan()));
        }
        else if (entry.TryGetProperty("bignum", out _) || entry.TryGetProperty("number", out _))
        {
            AssertReadsNumber(entry, ref reader, encoding);
        }
        else
        {
            // The library's reader (what commands and tail use) must read the fixture as the spec says.
            var library = new global::MessagePack.MessagePackReader(reader.ReadRaw().ToArray());
            Assert.Equal(ExpectedValue(entry), MessagePackValue.Read(ref library));
            Assert.True(library.End);
        }
    }

    /// <summary>The suite lists float encodings of integral numbers too: those compare as doubles.</summary>
    private static void AssertReadsNumber(JsonElement entry, ref MessagePackReader reader, string encoding)
    {
        if (reader.PeekType() == MessagePackType.Float)
        {
            double expected = entry.TryGetProperty("number", out JsonElement number)
                ? number.GetDouble()
                : double.Parse(entry.GetProperty("bignum").GetString()!, CultureInfo.InvariantCulture);
            Assert.Equal(expected, reader.ReadDouble());
            return;
        }

        if (entry.TryGetProperty("bignum", out JsonElement bignum))
        {
            string digits = bignum.GetString()!;
            if (digits.StartsWith('-') || long.TryParse(digits, CultureInfo.InvariantCulture, out _))
            {
                Assert.Equal(long.Parse(digits, CultureInfo.InvariantCulture), reader.ReadInt64());
            }
            else
            {
                Assert.Equal(ulong.Parse(digits, CultureInfo.InvariantCulture), reader.ReadUInt64());
            }

            return;
        }

        JsonElement value = entry.GetProperty("number");
        Assert.True(value.TryGetInt64(out long integer), $"{encoding}: an integer encoding of a fractional number");
        Assert.Equal(integer, reader.ReadInt64());
    }

    private static MessagePackValue ExpectedValue(JsonElement entry)
    {
        foreach (JsonProperty property in entry.EnumerateObject())
        {
            if (property.Name != "msgpack")
            {
                return FromJson(property.Value);
            }
        }

        throw new InvalidDataException("A fixture without a value.");
    }

    private static MessagePackValue FromJson(JsonElement json) => json.ValueKind switch
    {
        JsonValueKind.Null => MessagePackValue.Nil,
        JsonValueKind.True => MessagePackValue.FromBoolean(true),
        JsonValueKind.False => MessagePackValue.FromBoolean(false),
        JsonValueKind.String => MessagePackValue.FromString(json.GetString()!),
        JsonValueKind.Number when json.TryGetInt64(out long integer) => MessagePackValue.FromInt64(integer),
        JsonValueKind.Number => MessagePackValue.FromDouble(json.GetDouble()),
        JsonValueKind.Array => MessagePackValue.FromArray([.. json.EnumerateArray().Select(FromJson)]),
        JsonValueKind.Object => MessagePackValue.FromMap(
            [.. json.EnumerateObject().Select(p => KeyValuePair.Create(MessagePackValue.FromString(p.Name), FromJson(p.Value)))]),
        _ => throw new InvalidDataException($"Unexpected fixture JSON {json.ValueKind}."),
    };
}
