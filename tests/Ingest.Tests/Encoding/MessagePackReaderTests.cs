using Ingest.Encoding.MessagePack;

namespace Ingest.Tests.Encoding;

public class MessagePackReaderTests
{
    [Theory]
    [InlineData("c0", MessagePackType.Nil)]
    [InlineData("c2", MessagePackType.Boolean)]
    [InlineData("7f", MessagePackType.Integer)]
    [InlineData("e0", MessagePackType.Integer)]
    [InlineData("d3", MessagePackType.Integer)]
    [InlineData("ca", MessagePackType.Float)]
    [InlineData("a0", MessagePackType.String)]
    [InlineData("db", MessagePackType.String)]
    [InlineData("c4", MessagePackType.Binary)]
    [InlineData("9f", MessagePackType.Array)]
    [InlineData("dd", MessagePackType.Array)]
    [InlineData("80", MessagePackType.Map)]
    [InlineData("df", MessagePackType.Map)]
    [InlineData("d8", MessagePackType.Extension)]
    [InlineData("c9", MessagePackType.Extension)]
    public void PeekType_ClassifiesEveryFormatFamily(string hex, MessagePackType expected)
    {
        var reader = new MessagePackReader(Hex.Parse(hex));
        Assert.Equal(expected, reader.PeekType());
        Assert.Equal(0, reader.Position);
    }

    [Fact]
    public void PeekType_ClassifiesAll256Codes()
    {
        // Every code except 0xc1 has a type; this pins the table against the specification's ranges.
        for (int code = 0; code < 256; code++)
        {
            byte[] one = [(byte)code];
            if (code == 0xc1)
            {
                Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(one).PeekType());
                continue;
            }

            MessagePackType expected = code switch
            {
                <= 0x7f or >= 0xe0 or (>= 0xcc and <= 0xd3) => MessagePackType.Integer,
                <= 0x8f or 0xde or 0xdf => MessagePackType.Map,
                <= 0x9f or 0xdc or 0xdd => MessagePackType.Array,
                <= 0xbf or (>= 0xd9 and <= 0xdb) => MessagePackType.String,
                0xc0 => MessagePackType.Nil,
                0xc2 or 0xc3 => MessagePackType.Boolean,
                >= 0xc4 and <= 0xc6 => MessagePackType.Binary,
                0xca or 0xcb => MessagePackType.Float,
                _ => MessagePackType.Extension,
            };
            Assert.Equal(expected, new MessagePackReader(one).PeekType());
        }
    }

    [Fact]
    public void TryReadMethods_ConsumeNothingOnTypeMismatch()
    {
        byte[] document = Hex.Parse("a1-61");
        var reader = new MessagePackReader(document);
        Assert.False(reader.TryReadNil());
        Assert.False(reader.TryReadBoolean(out _));
        Assert.False(reader.TryReadInt64(out _));
        Assert.False(reader.TryReadUInt64(out _));
        Assert.False(reader.TryReadBinarySpan(out _));
        Assert.False(reader.TryReadArrayHeader(out _));
        Assert.False(reader.TryReadMapHeader(out _));
        Assert.False(reader.TryReadTimestamp(out _, out _));
        Assert.Equal(0, reader.Position);
        Assert.True(reader.TryReadStringSpan(out ReadOnlySpan<byte> utf8));
        Assert.Equal("a"u8, utf8);
        Assert.True(reader.End);
    }

    [Fact]
    public void ReadMethods_ThrowWithOffsetOnTypeMismatchAndDoNotMove()
    {
        // Two top-level values: an integer, then a str at offset 1.
        byte[] document = Hex.Parse("01-a1-61");
        MessagePackFormatException error = CatchFormat(document, 1, static (ref MessagePackReader r) => r.ReadInt64());
        Assert.Equal(1, error.Offset);
        Assert.Contains("expected Integer, found String", error.Message, StringComparison.Ordinal);
        Assert.Contains("offset 1", error.Message, StringComparison.Ordinal);

        var reader = new MessagePackReader(document);
        Assert.Equal(1, reader.ReadInt64());
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(document[1..]).ReadArrayHeader());
        Assert.Equal("a", reader.ReadString());
    }

    [Theory]
    [InlineData("cf-80-00-00-00-00-00-00-00")]
    [InlineData("cf-ff-ff-ff-ff-ff-ff-ff-ff")]
    public void ReadInt64_RejectsUnsignedValuesAboveLongMax(string hex)
    {
        var reader = new MessagePackReader(Hex.Parse(hex));
        Assert.False(reader.TryReadInt64(out _));
        Assert.Equal(0, reader.Position);
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(Hex.Parse(hex)).ReadInt64());
        Assert.True(new MessagePackReader(Hex.Parse(hex)).ReadUInt64() > long.MaxValue);
    }

    [Theory]
    [InlineData("ff")]
    [InlineData("d0-80")]
    [InlineData("d3-80-00-00-00-00-00-00-00")]
    public void ReadUInt64_RejectsNegativeValues(string hex)
    {
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(Hex.Parse(hex)).ReadUInt64());
        var reader = new MessagePackReader(Hex.Parse(hex));
        Assert.False(reader.TryReadUInt64(out _));
        Assert.True(reader.ReadInt64() < 0);
    }

    [Theory]
    [InlineData("d3-00-00-00-00-00-00-00-05", 5L)]
    [InlineData("cf-00-00-00-00-00-00-00-05", 5L)]
    [InlineData("d2-ff-ff-ff-ff", -1L)]
    [InlineData("cd-00-00", 0L)]
    public void IntegerReads_AcceptNonMinimalEncodings(string hex, long expected) =>
        Assert.Equal(expected, new MessagePackReader(Hex.Parse(hex)).ReadInt64());

    [Fact]
    public void ReadInt32_ChecksRange()
    {
        Assert.Equal(int.MinValue, new MessagePackReader(Hex.Parse("d2-80-00-00-00")).ReadInt32());
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(Hex.Parse("ce-80-00-00-00")).ReadInt32());
    }

    [Fact]
    public void ReadDouble_AcceptsBothFloatWidthsAndIntegers()
    {
        Assert.Equal(0.5, new MessagePackReader(Hex.Parse("ca-3f-00-00-00")).ReadDouble());
        Assert.Equal(0.5, new MessagePackReader(Hex.Parse("cb-3f-e0-00-00-00-00-00-00")).ReadDouble());
        Assert.Equal(-33.0, new MessagePackReader(Hex.Parse("d0-df")).ReadDouble());
        Assert.Equal(1.5f, new MessagePackReader(Hex.Parse("ca-3f-c0-00-00")).ReadSingle());
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(Hex.Parse("c0")).ReadDouble());
    }

    [Fact]
    public void ReadString_RejectsInvalidUtf8ButSpanReadDoesNot()
    {
        byte[] document = Hex.Parse("a2-c3-28");
        MessagePackFormatException error = CatchFormat(document, 0, static (ref MessagePackReader r) => r.ReadString());
        Assert.Equal(0, error.Offset);
        var reader = new MessagePackReader(document);
        Assert.Equal(2, reader.ReadStringSpan().Length);
        Assert.Null(new MessagePackReader([0xc0]).ReadNullableString());
    }

    [Fact]
    public void Skip_LandsAfterNestedValuesOfEveryKind()
    {
        using var writer = new MessagePackWriter();
        writer.WriteMapHeader(2);
        writer.WriteString("k");
        writer.WriteArrayHeader(6);
        writer.Write(ulong.MaxValue);
        writer.Write(1.5);
        writer.Write(1.5f);
        writer.WriteBinary(new byte[300]);
        writer.WriteExtension(3, new byte[70000]);
        writer.WriteTimestamp(DateTimeOffset.UnixEpoch);
        writer.WriteString(new string('s', 40));
        writer.WriteMapHeader(1);
        writer.WriteNil();
        writer.Write(false);
        writer.Write(-1L);

        var reader = new MessagePackReader(writer.WrittenSpan);
        reader.Skip();
        Assert.Equal(-1, reader.ReadInt64());
        Assert.True(reader.End);

        reader = new MessagePackReader(writer.WrittenSpan);
        ReadOnlySpan<byte> raw = reader.ReadRaw();
        Assert.Equal(writer.WrittenCount - 1, raw.Length);
    }

    [Fact]
    public void ReadTimestamp_RejectsMalformedTimestamps()
    {
        // Wrong extension type, wrong length, nanoseconds out of range (64 and 96 bit forms).
        foreach (string hex in new[] { "d6-01-00-00-00-00", "d5-ff-00-00", "d7-ff-ff-ff-ff-ff-00-00-00-00", "c7-0c-ff-3b-9a-ca-00-00-00-00-00-00-00-00-00" })
        {
            byte[] document = Hex.Parse(hex);
            MessagePackFormatException error = CatchFormat(document, 0, static (ref MessagePackReader r) => r.ReadTimestamp(out _, out _));
            Assert.Equal(0, error.Offset);
            var reader = new MessagePackReader(document);
            Assert.False(reader.TryReadTimestamp(out _, out _));
            Assert.Equal(0, reader.Position);
        }
    }

    [Fact]
    public void ReadTimestamp_ThrowsWhenOutsideDateTimeOffsetButFieldsStillRead()
    {
        byte[] document = Hex.Parse("c7-0c-ff-00-00-00-00-7f-ff-ff-ff-ff-ff-ff-ff");
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(document).ReadTimestamp());
        var reader = new MessagePackReader(document);
        reader.ReadTimestamp(out long seconds, out uint nanoseconds);
        Assert.Equal(long.MaxValue, seconds);
        Assert.Equal(0u, nanoseconds);
    }

    [Fact]
    public void OptionLimits_AreEnforced()
    {
        var options = new MessagePackReaderOptions { MaxStringLength = 3, MaxBinaryLength = 2, MaxCollectionCount = 1 };
        Assert.Equal("abc", new MessagePackReader(Hex.Parse("a3-61-62-63"), options).ReadString());
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(Hex.Parse("a4-61-62-63-64"), options).ReadString());
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(Hex.Parse("c4-03-01-02-03"), options).ReadBinarySpan());
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(Hex.Parse("d6-01-00-00-00-00"), options).ReadExtensionHeader());
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(Hex.Parse("92-01-02"), options).ReadArrayHeader());
        Assert.Throws<MessagePackFormatException>(() => new MessagePackReader(Hex.Parse("82-01-02-03-04"), options).ReadMapHeader());
    }

    [Fact]
    public void EnterCollection_EnforcesMaxDepth()
    {
        var reader = new MessagePackReader(default, new MessagePackReaderOptions { MaxDepth = 2 });
        reader.EnterCollection();
        reader.EnterCollection();
        Assert.Equal(2, reader.Depth);
        try
        {
            reader.EnterCollection();
            Assert.Fail("a third level was allowed");
        }
        catch (MessagePackFormatException error)
        {
            Assert.Contains("maximum depth of 2", error.Message, StringComparison.Ordinal);
        }

        reader.ExitCollection();
        reader.ExitCollection();
        try
        {
            reader.ExitCollection();
            Assert.Fail("unbalanced exit was allowed");
        }
        catch (InvalidOperationException)
        {
        }
    }

    internal delegate void ReadAction(ref MessagePackReader reader);

    /// <summary>
    /// Skips top-level values up to <paramref name="position"/>, runs <paramref name="read"/> there and
    /// returns the format error it must throw, checking that the reader did not move.
    /// </summary>
    internal static MessagePackFormatException CatchFormat(byte[] document, int position, ReadAction read)
    {
        var reader = new MessagePackReader(document);
        while (reader.Position < position)
        {
            reader.Skip();
        }

        try
        {
            read(ref reader);
        }
        catch (MessagePackFormatException error)
        {
            Assert.Equal(position, reader.Position);
            return error;
        }

        Assert.Fail("no MessagePackFormatException");
        return null!;
    }
}
