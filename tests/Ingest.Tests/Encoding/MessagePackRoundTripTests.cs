using System.Buffers;
using System.Text.Json;
using Ingest.Encoding.MessagePack;
using Lib = global::MessagePack;

namespace Ingest.Tests.Encoding;

/// <summary>
/// Property-style round trips over seeded random documents: what the project writes off the hot
/// path (<see cref="MessagePackValue"/> through MessagePack-CSharp's writer) reads back through
/// the library reader, the read tree, the JSON view and a bounded skip.
/// </summary>
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
            (byte[] msgpack, string expected, MessagePackValue value) = Generate(random);

            Assert.Equal(expected, CanonicalJson.FromMessagePack(msgpack));

            var reader = new Lib.MessagePackReader(msgpack);
            Assert.Equal(msgpack.Length, UntrustedMessagePack.ReadRaw(ref reader, MessagePackReaderOptions.Default).Length);
            Assert.True(reader.End);

            // The read tree is the written one (floats were written as float 64).
            MessagePackValue tree = MessagePackValue.Parse(msgpack);
            Assert.Equal(value, tree);
            Assert.Equal(msgpack, tree.ToMessagePack());

            Assert.NotEmpty(MessagePackJson.ToJson(msgpack));
        }
    }

    [Fact]
    public void PrimitivesRoundTripEveryInt64Width()
    {
        var random = new Random(42);
        byte[] buffer = new byte[MessagePackPrimitives.MaxHeaderLength];
        for (int i = 0; i < 100_000; i++)
        {
            long value = random.NextInt64() >> random.Next(64);
            value = (i & 1) == 0 ? value : ~value;
            int written = MessagePackPrimitives.WriteInt64(buffer, value);
            var reader = new Lib.MessagePackReader(buffer.AsMemory(0, written));
            Assert.Equal(value, reader.ReadInt64());
            Assert.True(reader.End);

            ulong unsigned = (ulong)random.NextInt64() >> random.Next(64);
            written = MessagePackPrimitives.WriteUInt64(buffer, unsigned);
            reader = new Lib.MessagePackReader(buffer.AsMemory(0, written));
            Assert.Equal(unsigned, reader.ReadUInt64());
            Assert.True(reader.End);
        }
    }

    /// <summary>
    /// One random value, or an array of <paramref name="topLevelCount"/> of them: its bytes as the
    /// project writes them (<see cref="MessagePackValue.ToMessagePack"/>), its canonical form, the tree.
    /// </summary>
    internal static (byte[] MessagePack, string Canonical, MessagePackValue Value) Generate(Random random, int topLevelCount = 0, bool extensions = true)
    {
        var canonical = new ArrayBufferWriter<byte>();
        MessagePackValue value;
        using (var json = new Utf8JsonWriter(canonical))
        {
            var document = new RandomDocument(random, json, extensions);
            if (topLevelCount == 0)
            {
                value = document.NextValue();
            }
            else
            {
                json.WriteStartArray();
                var items = new MessagePackValue[topLevelCount];
                for (int i = 0; i < topLevelCount; i++)
                {
                    items[i] = document.NextValue(depth: 1);
                }

                json.WriteEndArray();
                value = MessagePackValue.FromArray(items);
            }
        }

        return (value.ToMessagePack(), System.Text.Encoding.UTF8.GetString(canonical.WrittenSpan), value);
    }
}
