using Ingest.Encoding.MessagePack;
using MessagePackReader = global::MessagePack.MessagePackReader;

namespace Ingest.Tests.Encoding;

/// <summary>The hot path's span primitives: every format switch point, byte for byte against the specification, read back by MessagePack-CSharp.</summary>
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

    [Fact]
    public void NegativeLengthsAreRejected()
    {
        byte[] buffer = new byte[MessagePackPrimitives.MaxHeaderLength];
        Assert.Throws<ArgumentOutOfRangeException>(() => MessagePackPrimitives.WriteStringHeader(buffer, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => MessagePackPrimitives.WriteBinaryHeader(buffer, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => MessagePackPrimitives.WriteArrayHeader(buffer, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => MessagePackPrimitives.WriteMapHeader(buffer, -1));
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
        Assert.Equal(5, MessagePackPrimitives.WriteBinaryHeader(exact, int.MaxValue));
        Assert.Equal(5, MessagePackPrimitives.WriteArrayHeader(exact, int.MaxValue));
        Assert.Equal(5, MessagePackPrimitives.WriteMapHeader(exact, int.MaxValue));
    }

    private delegate int SpanWriter(Span<byte> destination);

    private static void AssertWrites(string expectedHex, SpanWriter write)
    {
        byte[] expected = Hex.Parse(expectedHex);
        // Filled with a marker so bytes written beyond the reported length would show.
        byte[] buffer = new byte[MessagePackPrimitives.MaxHeaderLength + 1];
        buffer.AsSpan().Fill(0xAA);
        int written = write(buffer);
        Assert.Equal(expectedHex, Hex.Format(buffer.AsSpan(0, written)));
        Assert.All(buffer.AsSpan(written).ToArray(), b => Assert.Equal(0xAA, b));
        Assert.Equal(expected.Length, written);
    }
}
