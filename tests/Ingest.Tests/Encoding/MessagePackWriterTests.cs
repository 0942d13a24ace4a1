using Ingest.Encoding.MessagePack;

namespace Ingest.Tests.Encoding;

public class MessagePackWriterTests
{
    [Fact]
    public void WritesAMixedDocumentByteForByte()
    {
        using var writer = new MessagePackWriter();
        writer.WriteMapHeader(3);
        writer.WriteString("a");
        writer.Write(-33L);
        writer.WriteString("b"u8);
        writer.WriteArrayHeader(2);
        writer.WriteNil();
        writer.Write(true);
        writer.WriteString("c");
        writer.WriteBinary([0x00, 0xff]);

        Assert.Equal("83-a1-61-d0-df-a1-62-92-c0-c3-a1-63-c4-02-00-ff", Hex.Format(writer.WrittenSpan));
        Assert.Equal(16, writer.WrittenCount);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(65535)]
    [InlineData(65536)]
    public void WriteString_HeaderMatchesUtf8Length(int chars)
    {
        // Three UTF-8 bytes per char, so char count and byte count straddle different boundaries.
        string ascii = new('x', chars);
        string cjk = new('\u6f22', chars / 3);
        foreach (string text in new[] { ascii, cjk })
        {
            using var writer = new MessagePackWriter(1);
            writer.WriteString(text);
            int byteCount = System.Text.Encoding.UTF8.GetByteCount(text);
            Assert.Equal(MessagePackPrimitives.GetStringHeaderLength(byteCount) + byteCount, writer.WrittenCount);

            var reader = new MessagePackReader(writer.WrittenSpan);
            Assert.Equal(text, reader.ReadString());
            Assert.True(reader.End);
        }
    }

    [Fact]
    public void WriteString_ReplacesLoneSurrogates()
    {
        using var writer = new MessagePackWriter();
        writer.WriteString("a\ud800b");
        Assert.Equal("a5-61-ef-bf-bd-62", Hex.Format(writer.WrittenSpan));
    }

    [Fact]
    public void WriteString_Utf16AndUtf8OverloadsAgree()
    {
        using var fromChars = new MessagePackWriter();
        using var fromBytes = new MessagePackWriter();
        fromChars.WriteString("🍺 Кириллица");
        fromBytes.WriteString("🍺 Кириллица"u8);
        Assert.Equal(fromBytes.ToArray(), fromChars.ToArray());
    }

    [Fact]
    public void GrowsFromTinyCapacityAndKeepsEarlierBytes()
    {
        using var writer = new MessagePackWriter(0);
        var expected = new List<byte>();
        Span<byte> one = stackalloc byte[MessagePackPrimitives.MaxHeaderLength];
        for (int i = 0; i < 10_000; i++)
        {
            writer.Write((long)i);
            expected.AddRange(one[..MessagePackPrimitives.WriteInt64(one, i)].ToArray());
        }

        Assert.Equal(expected.ToArray(), writer.ToArray());
    }

    [Fact]
    public void ResetStartsOverAndDisposeMakesWritesFail()
    {
        var writer = new MessagePackWriter();
        writer.WriteString(new string('x', 1000));
        writer.Reset();
        Assert.Equal(0, writer.WrittenCount);
        writer.Write(1L);
        Assert.Equal("01", Hex.Format(writer.WrittenSpan));

        writer.Dispose();
        Assert.Equal(0, writer.WrittenCount);
        Assert.Throws<ObjectDisposedException>(() => writer.Write(1L));
        writer.Dispose();
    }

    [Fact]
    public void ActsAsBufferWriter()
    {
        using var writer = new MessagePackWriter(1);
        writer.WriteArrayHeader(1);
        Span<byte> span = writer.GetSpan(100);
        Assert.True(span.Length >= 100);
        span[0] = 0x2a;
        writer.Advance(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Advance(int.MaxValue));
        Assert.Equal("91-2a", Hex.Format(writer.WrittenSpan));
    }

    [Theory]
    [InlineData("1970-01-01T00:00:00+00:00", "d6-ff-00-00-00-00")]
    [InlineData("2018-01-02T03:04:05+00:00", "d6-ff-5a-4a-f6-a5")]
    [InlineData("2018-01-02T05:04:05+02:00", "d6-ff-5a-4a-f6-a5")]
    [InlineData("1970-01-01T00:00:00.0000001+00:00", "d7-ff-00-00-01-90-00-00-00-00")]
    [InlineData("1969-12-31T23:59:59.9999999+00:00", "c7-0c-ff-3b-9a-c9-9c-ff-ff-ff-ff-ff-ff-ff-ff")]
    [InlineData("2106-02-07T06:28:16+00:00", "d7-ff-00-00-00-01-00-00-00-00")]
    [InlineData("0001-01-01T00:00:00+00:00", "c7-0c-ff-00-00-00-00-ff-ff-ff-f1-88-6e-09-00")]
    public void WriteTimestamp_DateTimeOffsetRoundTrips(string iso, string expected)
    {
        DateTimeOffset value = DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture);
        using var writer = new MessagePackWriter();
        writer.WriteTimestamp(value);
        Assert.Equal(expected, Hex.Format(writer.WrittenSpan));

        var reader = new MessagePackReader(writer.WrittenSpan);
        DateTimeOffset read = reader.ReadTimestamp();
        Assert.Equal(value, read);
        Assert.Equal(TimeSpan.Zero, read.Offset);
        Assert.True(reader.End);
    }

    [Fact]
    public void WriteTimestamp_MaxValueRoundTrips()
    {
        using var writer = new MessagePackWriter();
        writer.WriteTimestamp(DateTimeOffset.MaxValue);
        var reader = new MessagePackReader(writer.WrittenSpan);
        Assert.Equal(DateTimeOffset.MaxValue, reader.ReadTimestamp());
    }

    [Fact]
    public void WriteRawAndExtension()
    {
        using var writer = new MessagePackWriter();
        writer.WriteArrayHeader(2);
        writer.WriteRaw([0xc3]);
        writer.WriteExtension(-128, [1, 2, 3]);
        Assert.Equal("92-c3-c7-03-80-01-02-03", Hex.Format(writer.WrittenSpan));
    }
}
