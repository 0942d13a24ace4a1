using Ingest.Encoding.MessagePack;
using Lib = global::MessagePack;

namespace Ingest.Tests.Encoding;

/// <summary>
/// Malformed input, read by MessagePack-CSharp's reader in every consumer the project has
/// (read tree, JSON view, bounded skip), must end in <see cref="MessagePackFormatException"/>:
/// never an out-of-range read, an overflow, a huge allocation or a stack overflow.
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
        SkipOne(document);
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
    public void LengthsAndCountsBeyondTheBufferAreRejected(string hex) => AssertEveryConsumerRejects(Hex.Parse(hex), hex);

    [Fact]
    public void NeverUsedCodeThrows()
    {
        AssertEveryConsumerRejects([0xc1], "0xc1");
        AssertEveryConsumerRejects([0x92, 0x01, 0xc1], "0xc1 nested");
        MessagePackFormatException error = Assert.Throws<MessagePackFormatException>(() => MessagePackValue.Parse([0x92, 0x01, 0xc1]));
        Assert.Equal(2, error.Offset);
    }

    [Fact]
    public void DeepNestingIsRejectedByEveryConsumer()
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
            MessagePackFormatException skip = Assert.Throws<MessagePackFormatException>(() => SkipOne(document));
            Assert.Contains("maximum depth", skip.Message, StringComparison.Ordinal);

            MessagePackFormatException json = Assert.Throws<MessagePackFormatException>(() => MessagePackJson.ToJson(document));
            Assert.Contains("maximum depth", json.Message, StringComparison.Ordinal);
            Assert.Throws<MessagePackFormatException>(() => MessagePackValue.Parse(document));
        }
    }

    [Fact]
    public void ADeeplyNestedEventIsSkippedByTheRecordDecoderAndRejectedByTheJsonView()
    {
        // {"v":1,"host":"h","channel":"c","events":[<100,000 arrays deep>]}: tail reads records from
        // a shared topic. The library's own skip takes the depth without a stack overflow; the JSON
        // view stops at its depth limit.
        byte[] nested = new byte[100_001];
        nested.AsSpan(0, 100_000).Fill(0x91);
        nested[^1] = 0xc0;
        byte[] record = [.. Hex.Parse("84-a1-76-01-a4-68-6f-73-74-a1-68-a7-63-68-61-6e-6e-65-6c-a1-63-a6"), .. "events"u8, 0x91, .. nested];
        var decoded = Ingest.Encoding.RecordDecoder.Decode(record);
        Assert.Equal(nested, Assert.Single(decoded.Events));
        Assert.Throws<MessagePackFormatException>(() => Ingest.Encoding.RecordDecoder.EventsAsJson(decoded).ToList());
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

            RunTolerantly(document, static d => SkipOne(d));
            RunTolerantly(document, static d => MessagePackValue.Parse(d));
            RunTolerantly(document, static d => MessagePackJson.ToJson(d));
        }
    }

    /// <summary>A document with every type family, nested, so truncations hit every kind of header and payload.</summary>
    internal static byte[] RichDocument() => Msgpack.Build(static (ref Lib.MessagePackWriter writer) =>
    {
        writer.WriteMapHeader(4);
        writer.Write("ints");
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
        writer.Write(new string('k', 40));
        writer.WriteMapHeader(3);
        writer.Write(new byte[] { 1, 2, 3 });
        writer.WriteNil();
        writer.Write(true);
        writer.Write(new DateTime(2026, 11, 22, 3, 0, 0, 123, DateTimeKind.Utc));
        writer.Write(7L);
        writer.WriteExtensionFormat(new Lib.ExtensionResult(9, new byte[300]));
        writer.Write(false);
        writer.WriteArrayHeader(20);
        for (int i = 0; i < 20; i++)
        {
            writer.Write(i % 2 == 0 ? "Кириллица" : string.Empty);
        }
    });

    /// <summary>The bounded skip the fleet view uses, as a whole-value consumer.</summary>
    private static void SkipOne(byte[] document)
    {
        var reader = new Lib.MessagePackReader(document);
        try
        {
            UntrustedMessagePack.Skip(ref reader, MessagePackReaderOptions.Default);
        }
        catch (Exception e) when (UntrustedMessagePack.IsMalformed(e))
        {
            throw UntrustedMessagePack.Malformed(e, reader.Consumed);
        }
    }

    private static void AssertEveryConsumerRejects(byte[] document, string because)
    {
        AssertFormatException(document, because, SkipOne);
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
}
