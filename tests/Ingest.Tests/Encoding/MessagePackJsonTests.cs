using System.Buffers;
using System.Text.Json;
using Ingest.Encoding.MessagePack;

namespace Ingest.Tests.Encoding;

public class MessagePackJsonTests
{
    [Theory]
    [InlineData("c0", "null")]
    [InlineData("c3", "true")]
    [InlineData("d0-df", "-33")]
    [InlineData("cf-ff-ff-ff-ff-ff-ff-ff-ff", "18446744073709551615")]
    [InlineData("d3-80-00-00-00-00-00-00-00", "-9223372036854775808")]
    [InlineData("cb-3f-f8-00-00-00-00-00-00", "1.5")]
    [InlineData("ca-3f-c0-00-00", "1.5")]
    [InlineData("cb-7f-f8-00-00-00-00-00-00", "\"NaN\"")]
    [InlineData("cb-7f-f0-00-00-00-00-00-00", "\"Infinity\"")]
    [InlineData("ca-ff-80-00-00", "\"-Infinity\"")]
    [InlineData("a3-e2-9d-a4", "\"❤\"")]
    [InlineData("a2-22-5c", "\"\\\"\\\\\"")]
    [InlineData("a2-c3-28", "\"\uFFFD(\"")]
    [InlineData("c4-03-00-01-02", "\"AAEC\"")]
    [InlineData("92-01-90", "[1,[]]")]
    [InlineData("82-a1-61-01-a1-62-80", "{\"a\":1,\"b\":{}}")]
    public void ConvertsScalarsAndCollections(string hex, string expected) =>
        Assert.Equal(expected, MessagePackJson.ToJson(Hex.Parse(hex)));

    [Theory]
    [InlineData("81-01-c0", "{\"1\":null}")]
    [InlineData("81-d0-df-c0", "{\"-33\":null}")]
    [InlineData("81-cf-ff-ff-ff-ff-ff-ff-ff-ff-c0", "{\"18446744073709551615\":null}")]
    [InlineData("81-c0-c0", "{\"null\":null}")]
    [InlineData("81-c2-c0", "{\"false\":null}")]
    [InlineData("81-cb-3f-f8-00-00-00-00-00-00-c0", "{\"1.5\":null}")]
    [InlineData("81-c4-01-ff-c0", "{\"/w==\":null}")]
    [InlineData("81-92-01-02-c0", "{\"[1,2]\":null}")]
    [InlineData("81-81-a1-61-01-c0", "{\"{\\\"a\\\":1}\":null}")]
    [InlineData("81-d6-ff-00-00-00-00-c0", "{\"\\\"1970-01-01T00:00:00Z\\\"\":null}")]
    public void StringifiesNonStringKeys(string hex, string expected) =>
        Assert.Equal(expected, MessagePackJson.ToJson(Hex.Parse(hex)));

    [Theory]
    [InlineData("d6-ff-5a-4a-f6-a5", "\"2018-01-02T03:04:05Z\"")]
    [InlineData("d7-ff-a1-dc-d7-c8-5a-4a-f6-a5", "\"2018-01-02T03:04:05.678901234Z\"")]
    [InlineData("d7-ff-00-00-01-90-00-00-00-00", "\"1970-01-01T00:00:00.0000001Z\"")]
    [InlineData("c7-0c-ff-3b-9a-c9-ff-ff-ff-ff-ff-ff-ff-ff-ff", "\"1969-12-31T23:59:59.999999999Z\"")]
    [InlineData("c7-0c-ff-00-00-00-00-ff-ff-ff-f1-88-6e-09-00", "\"0001-01-01T00:00:00Z\"")]
    [InlineData("c7-0c-ff-00-00-00-00-00-00-00-3a-ff-f4-41-7f", "\"9999-12-31T23:59:59Z\"")]
    public void TimestampsBecomeRfc3339WithNanoseconds(string hex, string expected) =>
        Assert.Equal(expected, MessagePackJson.ToJson(Hex.Parse(hex)));

    [Theory]
    [InlineData("d4-01-10", "{\"ext\":1,\"data\":\"EA==\"}")]
    [InlineData("c7-00-80", "{\"ext\":-128,\"data\":\"\"}")]
    // Timestamps JSON cannot show (before year 1, after 9999) or malformed ones keep the generic form.
    [InlineData("c7-0c-ff-00-00-00-00-7f-ff-ff-ff-ff-ff-ff-ff", "{\"ext\":-1,\"data\":\"AAAAAH//////////\"}")]
    [InlineData("d5-ff-00-01", "{\"ext\":-1,\"data\":\"AAE=\"}")]
    public void OtherExtensionsKeepTypeAndData(string hex, string expected) =>
        Assert.Equal(expected, MessagePackJson.ToJson(Hex.Parse(hex)));

    [Fact]
    public void OutputIsValidJsonThatSystemTextJsonParses()
    {
        byte[] document = MessagePackHostileInputTests.RichDocument();
        string json = MessagePackJson.ToJson(document, indented: true);
        using JsonDocument parsed = JsonDocument.Parse(json);
        Assert.Equal(18446744073709551615UL, parsed.RootElement.GetProperty("ints")[6].GetUInt64());
        Assert.Equal(-2.5, parsed.RootElement.GetProperty("floats")[1].GetDouble());
        Assert.Contains('\n', json);
    }

    [Fact]
    public void WriteValue_ReadsExactlyOneValueFromAStream()
    {
        byte[] document = Hex.Parse("01-a1-61-c0");
        var output = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(output))
        {
            var reader = new global::MessagePack.MessagePackReader(document);
            json.WriteStartArray();
            while (!reader.End)
            {
                MessagePackJson.WriteValue(ref reader, json);
            }

            json.WriteEndArray();
        }

        Assert.Equal("[1,\"a\",null]", System.Text.Encoding.UTF8.GetString(output.WrittenSpan));
    }
}
