using System.Text.Json;
using Ingest.Encoding.MessagePack;

namespace Ingest.Tests.Encoding;

/// <summary>
/// Malformed input must end in <see cref="MessagePackFormatException"/>: never an out-of-range
/// read, an overflow, a huge allocation or a stack overflow.
/// </summary>
public class MessagePackHostileInputTests
{
    [Fact]
    public void EveryTruncationOfAValidDocumentThrowsFormatException()
    {
        byte[] document = RichDocument();
        for (int length = 0; length < document.Length; length++)
        {
            byte[] truncated = document[..length];
            AssertEveryConsumerRejects(truncated, $"truncated to {length} of {document.Length} bytes");
        }

        // The whole document is accepted by all of them.
        var reader = new MessagePackReader(document);
        reader.Skip();
        Assert.True(reader.End);
        Assert.NotNull(MessagePackValue.Parse(document));
        Assert.NotEmpty(MessagePackJson.ToJson(document));
    }

    [Theory]
    [InlineData("d9-05-61-62")]
    [InlineData("da-ff-ff-61")]
    [InlineData("db-ff-ff-ff-ff-61")]
    [InlineData("c4-05-01")]
    [InlineData("c5-ff-ff")]
    [InlineData("c6-ff-ff-ff-ff-00")]
    [InlineData("c7-05-01-00")]
    [InlineData("c8-ff-ff-01")]
    [InlineData("c9-ff-ff-ff-ff-01")]
    [InlineData("d8-01-00")]
    [InlineData("dc-ff-ff-c0")]
    [InlineData("dd-ff-ff-ff-ff-c0")]
    [InlineData("dd-7f-ff-ff-ff")]
    [InlineData("de-ff-ff-c0-c0")]
    [InlineData("df-ff-ff-ff-ff")]
    [InlineData("df-00-00-00-01-c0")]
    [InlineData("95-01-02-03-04")]
    public void LengthsAndCountsBeyondTheBufferThrowAtTheHeader(string hex)
    {
        byte[] document = Hex.Parse(hex);
        AssertEveryConsumerRejects(document, hex);

        // The length check fires on the header itself, before anything is allocated or read.
        var reader = new MessagePackReader(document);
        MessagePackFormatException error = Assert.Throws<MessagePackFormatException>(() => ReadHeader(document));
        Assert.Equal(0, error.Offset);
        Assert.Equal(0, reader.Position);
    }

    [Fact]
    public void NeverUsedCodeThrows()
    {
        AssertEveryConsumerRejects([0xc1], "0xc1");
        AssertEveryConsumerRejects([0x92, 0x01, 0xc1], "0xc1 nested");
        MessagePackFormatException error = Assert.Throws<MessagePackFormatException>(() => MessagePackValue.Parse([0x92, 0x01, 0xc1]));
        Assert.Equal(2, error.Offset);
    }

    [Fact]
    public void DeepNestingIsRejectedByRecursiveConsumersAndSkippedIteratively()
    {
        const int Depth = 100_000;
        // [[[[...nil...]]]] and {nil: {nil: ...}} 100k levels deep.
        byte[] arrays = new byte[Depth + 1];
        arrays.AsSpan(0, Depth).Fill(0x91);
        arrays[Depth] = 0xc0;
        byte[] maps = new byte[(Depth * 2) + 1];
        for (int i = 0; i < Depth; i++)
        {
            maps[2 * i] = 0x81;
            maps[(2 * i) + 1] = 0xc0;
        }

        maps[^1] = 0xc0;

        foreach (byte[] document in new[] { arrays, maps })
        {
            var reader = new MessagePackReader(document);
            reader.Skip();
            Assert.True(reader.End);

            MessagePackFormatException json = Assert.Throws<MessagePackFormatException>(() => MessagePackJson.ToJson(document));
            Assert.Contains("maximum depth", json.Message, StringComparison.Ordinal);
            Assert.Throws<MessagePackFormatException>(() => MessagePackValue.Parse(document));
        }
    }

    [Fact]
    public void NestingUpToMaxDepthIsAccepted()
    {
        int depth = MessagePackReaderOptions.Default.MaxDepth;
        byte[] document = new byte[depth + 1];
        document.AsSpan(0, depth).Fill(0x91);
        document[depth] = 0x01;
        Assert.Equal(new string('[', depth) + "1" + new string(']', depth), MessagePackJson.ToJson(document));
        Assert.Throws<MessagePackFormatException>(() => MessagePackJson.ToJson((byte[])[0x91, .. document]));
    }

    [Fact]
    public void HugeDeclaredCountsDoNotAllocate()
    {
        // A map claiming 2^32-1 pairs followed by a few bytes: rejected before any allocation
        // proportional to the claim (the DOM would otherwise allocate tens of gigabytes).
        byte[] document = [0xdf, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02];
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<MessagePackFormatException>(() => MessagePackValue.Parse(document));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
    }

    [Fact]
    public void TrailingBytesAreRejectedByWholeDocumentConverters()
    {
        Assert.Throws<MessagePackFormatException>(() => MessagePackJson.ToJson(new byte[] { 0x01, 0x02 }));
        Assert.Throws<MessagePackFormatException>(() => MessagePackValue.Parse([0x01, 0x02]));
    }

    [Fact]
    public void RandomBytesOnlyEverThrowFormatException()
    {
        // Random garbage, and valid documents with random bytes flipped: anything other than
        // success or MessagePackFormatException escapes as a test failure.
        var random = new Random(20261122);
        byte[] valid = RichDocument();
        for (int round = 0; round < 20_000; round++)
        {
            byte[] document;
            if (round % 2 == 0)
            {
                document = new byte[random.Next(1, 64)];
                random.NextBytes(document);
            }
            else
            {
                document = (byte[])valid.Clone();
                for (int flips = random.Next(1, 4); flips > 0; flips--)
                {
                    document[random.Next(document.Length)] = (byte)random.Next(256);
                }
            }

            RunTolerantly(document, static d =>
            {
                var reader = new MessagePackReader(d);
                while (!reader.End)
                {
                    reader.Skip();
                }
            });
            RunTolerantly(document, static d => MessagePackValue.Parse(d));
            RunTolerantly(document, static d => MessagePackJson.ToJson(d));
        }
    }

    /// <summary>A document with every type family, nested, so truncations hit every kind of header and payload.</summary>
    internal static byte[] RichDocument()
    {
        using var writer = new MessagePackWriter();
        writer.WriteMapHeader(4);
        writer.WriteString("ints");
        writer.WriteArrayHeader(8);
        writer.Write(1L);
        writer.Write(-1L);
        writer.Write(200L);
        writer.Write(-200L);
        writer.Write(70000L);
        writer.Write(-70000L);
        writer.Write(ulong.MaxValue);
        writer.Write(long.MinValue);
        writer.WriteString("floats"u8);
        writer.WriteArrayHeader(2);
        writer.Write(1.25);
        writer.Write(-2.5f);
        writer.WriteString(new string('k', 40));
        writer.WriteMapHeader(3);
        writer.WriteBinary(new byte[] { 1, 2, 3 });
        writer.WriteNil();
        writer.Write(true);
        writer.WriteTimestamp(new DateTimeOffset(2026, 11, 22, 3, 0, 0, 123, TimeSpan.Zero));
        writer.Write(7L);
        writer.WriteExtension(9, new byte[300]);
        writer.Write(false);
        writer.WriteArrayHeader(20);
        for (int i = 0; i < 20; i++)
        {
            writer.WriteString(i % 2 == 0 ? "Кириллица" : string.Empty);
        }

        return writer.ToArray();
    }

    private static void AssertEveryConsumerRejects(byte[] document, string because)
    {
        AssertFormatException(document, because, static d =>
        {
            var reader = new MessagePackReader(d);
            reader.Skip();
        });
        AssertFormatException(document, because, static d =>
        {
            var reader = new MessagePackReader(d);
            reader.ReadRaw();
        });
        AssertFormatException(document, because, static d => MessagePackValue.Parse(d));
        AssertFormatException(document, because, static d => MessagePackJson.ToJson(d));
    }

    private static void AssertFormatException(byte[] document, string because, Action<byte[]> consume)
    {
        try
        {
            consume(document);
        }
        catch (MessagePackFormatException error)
        {
            Assert.InRange(error.Offset, 0, Math.Max(0, document.Length));
            return;
        }

        Assert.Fail($"{because}: accepted");
    }

    private static void RunTolerantly(byte[] document, Action<byte[]> consume)
    {
        try
        {
            consume(document);
        }
        catch (MessagePackFormatException error)
        {
            Assert.InRange(error.Offset, 0, document.Length);
        }
        catch (Exception other)
        {
            Assert.Fail($"{Hex.Format(document)}: {other}");
        }
    }

    private static void ReadHeader(byte[] document)
    {
        var reader = new MessagePackReader(document);
        switch (reader.PeekType())
        {
            case MessagePackType.String:
                reader.ReadStringHeader();
                break;
            case MessagePackType.Binary:
                reader.ReadBinaryHeader();
                break;
            case MessagePackType.Extension:
                reader.ReadExtensionHeader();
                break;
            case MessagePackType.Array:
                reader.ReadArrayHeader();
                break;
            case MessagePackType.Map:
                reader.ReadMapHeader();
                break;
            default:
                throw new InvalidOperationException("not a header");
        }
    }
}
