using System.Globalization;
using System.Text.Json;
using Ingest.Encoding.MessagePack;

namespace Ingest.Tests.Encoding;

/// <summary>
/// The fixtures of the npm package msgpack-test-suite (vendored in Fixtures/): for every value, what
/// the project writes (MessagePack-CSharp's writer off the hot path, <c>ChunkEventWriter</c> on it)
/// must be one of the accepted encodings, and the library reader must read all of them.
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

    /// <summary>The cases an <c>EventWriter</c> can write: it has no extension or timestamp call.</summary>
    public static TheoryData<string, int> EventWriterCases()
    {
        var cases = new TheoryData<string, int>();
        foreach (var row in Cases())
        {
            var (group, index) = row.Data;
            if (group is not ("50.timestamp.yaml" or "60.ext.yaml"))
            {
                cases.Add(group, index);
            }
        }

        return cases;
    }

    /// <summary>Off the hot path the project writes with MessagePack-CSharp's writer, through <see cref="MessagePackValue"/>.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void WriterProducesAnAcceptedEncoding(string group, int index)
    {
        JsonElement entry = Entry(group, index);
        Assert.Contains(Hex.Format(Build(entry).ToMessagePack()), Encodings(entry));
    }

    /// <summary>The hot path: <c>ChunkEventWriter</c> writes every value the suite has that an event can carry.</summary>
    [Theory]
    [MemberData(nameof(EventWriterCases))]
    public void ChunkEventWriterProducesAnAcceptedEncoding(string group, int index)
    {
        JsonElement entry = Entry(group, index);
        Assert.Contains(Hex.Format(Ingest.Tests.Pipeline.ChunkEventWriterTests.EncodeAsEventData(Build(entry))), Encodings(entry));
    }

    /// <summary>MessagePack-CSharp's reader, as the project uses it (read tree, JSON view, bounded skip), reads every accepted encoding.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void ReaderReadsEveryAcceptedEncoding(string group, int index)
    {
        JsonElement entry = Entry(group, index);
        foreach (string encoding in Encodings(entry))
        {
            byte[] bytes = Hex.Parse(encoding);
            MessagePackValue value = MessagePackValue.Parse(bytes);
            AssertReads(entry, value, bytes, encoding);

            var reader = new global::MessagePack.MessagePackReader(bytes);
            Assert.Equal(bytes.Length, UntrustedMessagePack.ReadRaw(ref reader, MessagePackReaderOptions.Default).Length);
            Assert.True(reader.End, encoding);
            Assert.NotEmpty(MessagePackJson.ToJson(bytes));
        }
    }

    private static JsonElement Entry(string group, int index) => s_suite.Value.RootElement.GetProperty(group)[index];

    private static string[] Encodings(JsonElement entry) => [.. entry.GetProperty("msgpack").EnumerateArray().Select(e => e.GetString()!)];

    /// <summary>The fixture's value as a tree (timestamps as extension -1 in the spec's smallest form).</summary>
    private static MessagePackValue Build(JsonElement entry)
    {
        if (entry.TryGetProperty("timestamp", out JsonElement timestamp))
        {
            return MessagePackValue.FromExtension(-1, CanonicalJson.TimestampData(timestamp[0].GetInt64(), timestamp[1].GetUInt32()));
        }

        if (entry.TryGetProperty("ext", out JsonElement ext))
        {
            return MessagePackValue.FromExtension(ext[0].GetSByte(), Hex.Parse(ext[1].GetString()!));
        }

        if (entry.TryGetProperty("binary", out JsonElement binary))
        {
            return MessagePackValue.FromBinary(Hex.Parse(binary.GetString()!));
        }

        if (entry.TryGetProperty("bignum", out JsonElement bignum))
        {
            string digits = bignum.GetString()!;
            return digits.StartsWith('-')
                ? MessagePackValue.FromInt64(long.Parse(digits, CultureInfo.InvariantCulture))
                : MessagePackValue.FromUInt64(ulong.Parse(digits, CultureInfo.InvariantCulture));
        }

        return ExpectedValue(entry);
    }

    private static void AssertReads(JsonElement entry, MessagePackValue value, byte[] bytes, string encoding)
    {
        if (entry.TryGetProperty("timestamp", out JsonElement timestamp))
        {
            Assert.Equal($"{{\"t\":[{timestamp[0].GetInt64()},{timestamp[1].GetUInt32()}]}}", CanonicalJson.FromMessagePack(bytes));
        }
        else if (entry.TryGetProperty("ext", out JsonElement ext))
        {
            Assert.Equal(MessagePackType.Extension, value.Type);
            Assert.Equal(ext[0].GetSByte(), value.ExtensionType);
            Assert.Equal(ext[1].GetString(), Hex.Format(value.AsBytes()));
        }
        else if (entry.TryGetProperty("binary", out JsonElement binary))
        {
            Assert.Equal(MessagePackType.Binary, value.Type);
            Assert.Equal(binary.GetString(), Hex.Format(value.AsBytes()));
        }
        else if (entry.TryGetProperty("bignum", out _) || entry.TryGetProperty("number", out _))
        {
            AssertReadsNumber(entry, value, encoding);
        }
        else
        {
            Assert.Equal(ExpectedValue(entry), value);
        }
    }

    /// <summary>The suite lists float encodings of integral numbers too: those compare as doubles.</summary>
    private static void AssertReadsNumber(JsonElement entry, MessagePackValue value, string encoding)
    {
        if (value.Type == MessagePackType.Float)
        {
            double expected = entry.TryGetProperty("number", out JsonElement number)
                ? number.GetDouble()
                : double.Parse(entry.GetProperty("bignum").GetString()!, CultureInfo.InvariantCulture);
            Assert.Equal(expected, value.AsDouble());
            return;
        }

        Assert.Equal(MessagePackType.Integer, value.Type);
        if (entry.TryGetProperty("bignum", out JsonElement bignum))
        {
            string digits = bignum.GetString()!;
            if (digits.StartsWith('-') || long.TryParse(digits, CultureInfo.InvariantCulture, out _))
            {
                Assert.Equal(long.Parse(digits, CultureInfo.InvariantCulture), value.AsInt64());
            }
            else
            {
                Assert.Equal(ulong.Parse(digits, CultureInfo.InvariantCulture), value.AsUInt64());
            }

            return;
        }

        Assert.True(entry.GetProperty("number").TryGetInt64(out long integer), $"{encoding}: an integer encoding of a fractional number");
        Assert.Equal(integer, value.AsInt64());
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
