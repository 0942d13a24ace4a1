using Ingest.Encoding.MessagePack;

namespace Ingest.Tests.Encoding;

/// <summary>Every format switch point, checked byte for byte against the specification.</summary>
public class MessagePackPrimitivesTests
{
    [Theory]
    [InlineData(0L, "00")]
    [InlineData(127L, "7f")]
    [InlineData(128L, "cc-80")]
    [InlineData(255L, "cc-ff")]
    [InlineData(256L, "cd-01-00")]
    [InlineData(65535L, "cd-ff-ff")]
    [InlineData(65536L, "ce-00-01-00-00")]
    [InlineData(4294967295L, "ce-ff-ff-ff-ff")]
    [InlineData(4294967296L, "cf-00-00-00-01-00-00-00-00")]
    [InlineData(long.MaxValue, "cf-7f-ff-ff-ff-ff-ff-ff-ff")]
    [InlineData(-1L, "ff")]
    [InlineData(-32L, "e0")]
    [InlineData(-33L, "d0-df")]
    [InlineData(-128L, "d0-80")]
    [InlineData(-129L, "d1-ff-7f")]
    [InlineData(-32768L, "d1-80-00")]
    [InlineData(-32769L, "d2-ff-ff-7f-ff")]
    [InlineData(-2147483648L, "d2-80-00-00-00")]
    [InlineData(-2147483649L, "d3-ff-ff-ff-ff-7f-ff-ff-ff")]
    [InlineData(long.MinValue, "d3-80-00-00-00-00-00-00-00")]
    public void WriteInt64_UsesSmallestEncoding(long value, string expected)
    {
        AssertWrites(expected, span => MessagePackPrimitives.WriteInt64(span, value));

        var reader = new MessagePackReader(Hex.Parse(expected));
        Assert.Equal(value, reader.ReadInt64());
        Assert.True(reader.End);
    }

    [Theory]
    [InlineData(0UL, "00")]
    [InlineData(127UL, "7f")]
    [InlineData(128UL, "cc-80")]
    [InlineData(255UL, "cc-ff")]
    [InlineData(256UL, "cd-01-00")]
    [InlineData(65535UL, "cd-ff-ff")]
    [InlineData(65536UL, "ce-00-01-00-00")]
    [InlineData(4294967295UL, "ce-ff-ff-ff-ff")]
    [InlineData(4294967296UL, "cf-00-00-00-01-00-00-00-00")]
    [InlineData(ulong.MaxValue, "cf-ff-ff-ff-ff-ff-ff-ff-ff")]
    public void WriteUInt64_UsesSmallestEncoding(ulong value, string expected)
    {
        AssertWrites(expected, span => MessagePackPrimitives.WriteUInt64(span, value));

        var reader = new MessagePackReader(Hex.Parse(expected));
        Assert.Equal(value, reader.ReadUInt64());
        Assert.True(reader.End);
    }

    [Fact]
    public void WriteNilAndBoolean()
    {
        AssertWrites("c0", MessagePackPrimitives.WriteNil);
        AssertWrites("c2", span => MessagePackPrimitives.WriteBoolean(span, false));
        AssertWrites("c3", span => MessagePackPrimitives.WriteBoolean(span, true));
    }

    [Fact]
    public void WriteFloats_AreBigEndianIeee754()
    {
        AssertWrites("cb-3f-f0-00-00-00-00-00-00", span => MessagePackPrimitives.WriteDouble(span, 1.0));
        AssertWrites("cb-80-00-00-00-00-00-00-00", span => MessagePackPrimitives.WriteDouble(span, -0.0));
        AssertWrites("cb-7f-f0-00-00-00-00-00-00", span => MessagePackPrimitives.WriteDouble(span, double.PositiveInfinity));
        AssertWrites("ca-3f-80-00-00", span => MessagePackPrimitives.WriteSingle(span, 1.0f));
        AssertWrites("ca-bf-00-00-00", span => MessagePackPrimitives.WriteSingle(span, -0.5f));
    }

    [Theory]
    [InlineData(0, "a0")]
    [InlineData(31, "bf")]
    [InlineData(32, "d9-20")]
    [InlineData(255, "d9-ff")]
    [InlineData(256, "da-01-00")]
    [InlineData(65535, "da-ff-ff")]
    [InlineData(65536, "db-00-01-00-00")]
    [InlineData(int.MaxValue, "db-7f-ff-ff-ff")]
    public void WriteStringHeader_SwitchesAtFormatBoundaries(int length, string expected)
    {
        AssertWrites(expected, span => MessagePackPrimitives.WriteStringHeader(span, length));
        Assert.Equal(Hex.Parse(expected).Length, MessagePackPrimitives.GetStringHeaderLength(length));
    }

    [Theory]
    [InlineData(0, "c4-00")]
    [InlineData(255, "c4-ff")]
    [InlineData(256, "c5-01-00")]
    [InlineData(65535, "c5-ff-ff")]
    [InlineData(65536, "c6-00-01-00-00")]
    public void WriteBinaryHeader_SwitchesAtFormatBoundaries(int length, string expected) =>
        AssertWrites(expected, span => MessagePackPrimitives.WriteBinaryHeader(span, length));

    [Theory]
    [InlineData(0, "90")]
    [InlineData(15, "9f")]
    [InlineData(16, "dc-00-10")]
    [InlineData(65535, "dc-ff-ff")]
    [InlineData(65536, "dd-00-01-00-00")]
    public void WriteArrayHeader_SwitchesAtFormatBoundaries(int count, string expected) =>
        AssertWrites(expected, span => MessagePackPrimitives.WriteArrayHeader(span, count));

    [Theory]
    [InlineData(0, "80")]
    [InlineData(15, "8f")]
    [InlineData(16, "de-00-10")]
    [InlineData(65535, "de-ff-ff")]
    [InlineData(65536, "df-00-01-00-00")]
    public void WriteMapHeader_SwitchesAtFormatBoundaries(int count, string expected) =>
        AssertWrites(expected, span => MessagePackPrimitives.WriteMapHeader(span, count));

    [Theory]
    [InlineData(0, "c7-00-05")]
    [InlineData(1, "d4-05")]
    [InlineData(2, "d5-05")]
    [InlineData(3, "c7-03-05")]
    [InlineData(4, "d6-05")]
    [InlineData(8, "d7-05")]
    [InlineData(16, "d8-05")]
    [InlineData(17, "c7-11-05")]
    [InlineData(255, "c7-ff-05")]
    [InlineData(256, "c8-01-00-05")]
    [InlineData(65535, "c8-ff-ff-05")]
    [InlineData(65536, "c9-00-01-00-00-05")]
    public void WriteExtensionHeader_UsesFixExtWhenTheLengthMatches(int length, string expected) =>
        AssertWrites(expected, span => MessagePackPrimitives.WriteExtensionHeader(span, 5, length));

    [Fact]
    public void WriteExtensionHeader_WritesNegativeTypesAsTwosComplement() =>
        AssertWrites("d6-80", span => MessagePackPrimitives.WriteExtensionHeader(span, sbyte.MinValue, 4));

    [Theory]
    [InlineData(0, "dd-00-00-00-00")]
    [InlineData(1, "dd-00-00-00-01")]
    [InlineData(70000, "dd-00-01-11-70")]
    public void WriteArray32Header_IsAlwaysFiveBytes(int count, string expected) =>
        AssertWrites(expected, span => MessagePackPrimitives.WriteArray32Header(span, count));

    [Fact]
    public void WriteArray32Header_CanBePatchedInPlaceAndRead()
    {
        byte[] buffer = new byte[7];
        MessagePackPrimitives.WriteArray32Header(buffer, 0);
        MessagePackPrimitives.WriteInt64(buffer.AsSpan(5), 1);
        MessagePackPrimitives.WriteInt64(buffer.AsSpan(6), 2);
        MessagePackPrimitives.WriteArray32Header(buffer, 2);

        var reader = new MessagePackReader(buffer);
        Assert.Equal(2, reader.ReadArrayHeader());
        Assert.Equal(1, reader.ReadInt64());
        Assert.Equal(2, reader.ReadInt64());
        Assert.True(reader.End);
    }

    [Theory]
    [InlineData(0L, 0u, "d6-ff-00-00-00-00")]
    [InlineData(4294967295L, 0u, "d6-ff-ff-ff-ff-ff")]
    [InlineData(4294967296L, 0u, "d7-ff-00-00-00-01-00-00-00-00")]
    [InlineData(0L, 1u, "d7-ff-00-00-00-04-00-00-00-00")]
    [InlineData(17179869183L, 999999999u, "d7-ff-ee-6b-27-ff-ff-ff-ff-ff")]
    [InlineData(17179869184L, 0u, "c7-0c-ff-00-00-00-00-00-00-00-04-00-00-00-00")]
    [InlineData(-1L, 0u, "c7-0c-ff-00-00-00-00-ff-ff-ff-ff-ff-ff-ff-ff")]
    public void WriteTimestamp_UsesSmallestForm(long seconds, uint nanoseconds, string expected) =>
        AssertWrites(expected, span => MessagePackPrimitives.WriteTimestamp(span, seconds, nanoseconds));

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(85)]
    [InlineData(86)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(21845)]
    [InlineData(21846)]
    [InlineData(65536)]
    public void WriteString_MatchesHeaderPlusUtf8ForEveryMix(int chars)
    {
        // Lengths straddle the points where 1 and 3 UTF-8 bytes per char need different headers,
        // so both the one-pass and the counting path run.
        foreach (char sample in new[] { 'a', '\u0416', '\u6f22', '\ud800' })
        {
            string text = new(sample, chars);
            byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(text);
            byte[] expected = new byte[MessagePackPrimitives.MaxHeaderLength + utf8.Length];
            int headerLength = MessagePackPrimitives.WriteStringHeader(expected, utf8.Length);
            utf8.CopyTo(expected, headerLength);

            byte[] buffer = new byte[MessagePackPrimitives.GetMaxStringLength(chars)];
            int written = MessagePackPrimitives.WriteString(buffer, text);
            Assert.Equal(expected.AsSpan(0, headerLength + utf8.Length), buffer.AsSpan(0, written));

            written = MessagePackPrimitives.WriteString(buffer, utf8);
            Assert.Equal(expected.AsSpan(0, headerLength + utf8.Length), buffer.AsSpan(0, written));
        }
    }

    [Fact]
    public void WriteBinary_WritesHeaderAndBytes() =>
        AssertWrites("c4-03-01-02-03", span => MessagePackPrimitives.WriteBinary(span, [1, 2, 3]));

    [Fact]
    public void NegativeLengthsAndBadNanosecondsAreRejected()
    {
        byte[] buffer = new byte[MessagePackPrimitives.MaxTimestampLength];
        Assert.Throws<ArgumentOutOfRangeException>(() => MessagePackPrimitives.WriteStringHeader(buffer, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => MessagePackPrimitives.WriteBinaryHeader(buffer, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => MessagePackPrimitives.WriteArrayHeader(buffer, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => MessagePackPrimitives.WriteMapHeader(buffer, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => MessagePackPrimitives.WriteExtensionHeader(buffer, 1, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => MessagePackPrimitives.WriteArray32Header(buffer, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => MessagePackPrimitives.WriteTimestamp(buffer, 0, 1_000_000_000));
    }

    [Fact]
    public void MaxHeaderLength_CoversEveryScalarAndHeader()
    {
        // Written into an exact-size span: a longer write would throw.
        Span<byte> exact = stackalloc byte[MessagePackPrimitives.MaxHeaderLength];
        Assert.Equal(9, MessagePackPrimitives.WriteInt64(exact, long.MinValue));
        Assert.Equal(9, MessagePackPrimitives.WriteUInt64(exact, ulong.MaxValue));
        Assert.Equal(9, MessagePackPrimitives.WriteDouble(exact, double.MaxValue));
        Assert.Equal(5, MessagePackPrimitives.WriteStringHeader(exact, int.MaxValue));
        Assert.Equal(6, MessagePackPrimitives.WriteExtensionHeader(exact, 1, int.MaxValue));
    }

    private delegate int SpanWriter(Span<byte> destination);

    private static void AssertWrites(string expectedHex, SpanWriter write)
    {
        byte[] expected = Hex.Parse(expectedHex);
        // Filled with a marker so bytes written beyond the reported length would show.
        byte[] buffer = new byte[MessagePackPrimitives.MaxTimestampLength + 1];
        buffer.AsSpan().Fill(0xAA);
        int written = write(buffer);
        Assert.Equal(expectedHex, Hex.Format(buffer.AsSpan(0, written)));
        Assert.All(buffer.AsSpan(written).ToArray(), b => Assert.Equal(0xAA, b));
        Assert.Equal(expected.Length, written);
    }
}
