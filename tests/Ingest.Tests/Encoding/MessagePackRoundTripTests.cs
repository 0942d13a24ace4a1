using System.Buffers;
using System.Text.Json;
using Ingest.Encoding.MessagePack;

namespace Ingest.Tests.Encoding;

/// <summary>Property-style round trips over seeded random documents.</summary>
public class MessagePackRoundTripTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void RandomDocumentsReadBackAsWritten(int seed)
    {
        var random = new Random(seed);
        for (int round = 0; round < 300; round++)
        {
            (byte[] msgpack, string expected) = Generate(random);

            Assert.Equal(expected, CanonicalJson.FromMessagePack(msgpack));

            var reader = new MessagePackReader(msgpack);
            Assert.Equal(msgpack.Length, reader.ReadRaw().Length);

            // The read tree survives a write/read cycle (floats widen to float 64, so compare trees).
            MessagePackValue tree = MessagePackValue.Parse(msgpack);
            using var rewritten = new MessagePackWriter();
            tree.WriteTo(rewritten);
            Assert.Equal(tree, MessagePackValue.Parse(rewritten.WrittenSpan));

            Assert.NotEmpty(MessagePackJson.ToJson(msgpack));
        }
    }

    [Fact]
    public void PrimitivesRoundTripEveryInt64Width()
    {
        var random = new Random(42);
        Span<byte> buffer = stackalloc byte[MessagePackPrimitives.MaxHeaderLength];
        for (int i = 0; i < 100_000; i++)
        {
            long value = random.NextInt64() >> random.Next(64);
            value = (i & 1) == 0 ? value : ~value;
            int written = MessagePackPrimitives.WriteInt64(buffer, value);
            var reader = new MessagePackReader(buffer[..written]);
            Assert.Equal(value, reader.ReadInt64());
            Assert.True(reader.End);

            ulong unsigned = (ulong)random.NextInt64() >> random.Next(64);
            written = MessagePackPrimitives.WriteUInt64(buffer, unsigned);
            reader = new MessagePackReader(buffer[..written]);
            Assert.Equal(unsigned, reader.ReadUInt64());
        }
    }

    /// <summary>One random value, or an array of <paramref name="topLevelCount"/> of them.</summary>
    internal static (byte[] MessagePack, string Canonical) Generate(Random random, int topLevelCount = 0)
    {
        var canonical = new ArrayBufferWriter<byte>();
        using var writer = new MessagePackWriter();
        using (var json = new Utf8JsonWriter(canonical))
        {
            var document = new RandomDocument(random, writer, json);
            if (topLevelCount == 0)
            {
                document.WriteValue();
            }
            else
            {
                writer.WriteArrayHeader(topLevelCount);
                json.WriteStartArray();
                for (int i = 0; i < topLevelCount; i++)
                {
                    document.WriteValue(depth: 1);
                }

                json.WriteEndArray();
            }
        }

        return (writer.ToArray(), System.Text.Encoding.UTF8.GetString(canonical.WrittenSpan));
    }
}
