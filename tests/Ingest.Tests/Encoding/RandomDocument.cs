using System.Text;
using System.Text.Json;
using Ingest.Encoding.MessagePack;

namespace Ingest.Tests.Encoding;

/// <summary>
/// Generates random values with a seeded <see cref="Random"/> as <see cref="MessagePackValue"/> trees
/// (which the project writes with MessagePack-CSharp's writer, or through <c>ChunkEventWriter</c>)
/// and, straight from the generated value, as <see cref="CanonicalJson"/>: the expectation never
/// passes through a reader. <paramref name="extensions"/> false leaves out extensions and
/// timestamps (an <c>EventWriter</c> has no way to write them).
/// </summary>
internal sealed class RandomDocument(Random random, Utf8JsonWriter expected, bool extensions = true)
{
    private const int MaxDepth = 4;

    private static readonly long[] s_boundaries =
    [
        0, 1, 127, 128, 255, 256, 65535, 65536, uint.MaxValue, (long)uint.MaxValue + 1, long.MaxValue,
        -1, -32, -33, -128, -129, -32768, -32769, int.MinValue, (long)int.MinValue - 1, long.MinValue,
    ];

    private static readonly int[] s_lengths = [0, 1, 15, 16, 31, 32, 255, 256];

    public MessagePackValue NextValue(int depth = 0)
    {
        int kinds = depth < MaxDepth ? 15 : 13;
        int kind = random.Next(kinds);
        if (!extensions && kind is 10 or 11 or 12)
        {
            kind = 0;
        }

        switch (kind)
        {
            case 0:
                expected.WriteNullValue();
                return MessagePackValue.Nil;
            case 1:
                bool flag = random.Next(2) == 1;
                expected.WriteBooleanValue(flag);
                return MessagePackValue.FromBoolean(flag);
            case 2:
                long boundary = s_boundaries[random.Next(s_boundaries.Length)];
                CanonicalJson.WriteInteger(expected, boundary);
                return MessagePackValue.FromInt64(boundary);
            case 3:
                // Magnitudes spread over every integer width.
                long signed = random.NextInt64() >> random.Next(64);
                signed = random.Next(2) == 0 ? signed : -signed;
                CanonicalJson.WriteInteger(expected, signed);
                return MessagePackValue.FromInt64(signed);
            case 4:
                ulong unsigned = ((ulong)random.NextInt64() << 1 | (uint)random.Next(2)) >> random.Next(64);
                CanonicalJson.WriteInteger(expected, unsigned);
                return MessagePackValue.FromUInt64(unsigned);
            case 5:
                double number = random.Next(8) switch
                {
                    0 => double.NaN,
                    1 => double.NegativeInfinity,
                    2 => -0.0,
                    3 => double.Epsilon,
                    _ => BitConverter.Int64BitsToDouble(random.NextInt64()) is var d && double.IsFinite(d) ? d : 1e300,
                };
                CanonicalJson.WriteFloat(expected, number);
                return MessagePackValue.FromDouble(number);
            case 6:
                float single = (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-30, 30)));
                CanonicalJson.WriteFloat(expected, single);
                return MessagePackValue.FromDouble(single);
            case 7:
            case 8:
                string text = NextString();
                CanonicalJson.WriteString(expected, text);
                return random.Next(2) == 0 ? MessagePackValue.FromString(text) : MessagePackValue.FromUtf8(System.Text.Encoding.UTF8.GetBytes(text));
            case 9:
                byte[] binary = NextBytes();
                CanonicalJson.WriteBinary(expected, binary);
                return MessagePackValue.FromBinary(binary);
            case 10:
                sbyte type = (sbyte)random.Next(-128, 128);
                type = type == -1 ? (sbyte)0 : type;
                byte[] data = random.Next(3) == 0 ? NextBytes() : new byte[new[] { 1, 2, 4, 8, 16 }[random.Next(5)]];
                random.NextBytes(data);
                CanonicalJson.WriteExtension(expected, type, data);
                return MessagePackValue.FromExtension(type, data);
            case 11:
            case 12:
                long seconds = random.Next(6) switch
                {
                    0 => 0,
                    1 => uint.MaxValue,
                    2 => (1L << 34) - 1,
                    3 => 1L << 34,
                    4 => -random.NextInt64(1L << 40),
                    _ => random.NextInt64(1L << 36),
                };
                uint nanoseconds = random.Next(2) == 0 ? 0 : (uint)random.Next(1_000_000_000);
                CanonicalJson.WriteTimestamp(expected, seconds, nanoseconds);
                return MessagePackValue.FromExtension(-1, CanonicalJson.TimestampData(seconds, nanoseconds));
            case 13:
                int count = NextCount();
                expected.WriteStartArray();
                var items = new MessagePackValue[count];
                for (int i = 0; i < count; i++)
                {
                    items[i] = NextValue(depth + 1);
                }

                expected.WriteEndArray();
                return MessagePackValue.FromArray(items);
            default:
                int pairs = NextCount();
                CanonicalJson.StartMap(expected);
                var entries = new KeyValuePair<MessagePackValue, MessagePackValue>[pairs];
                for (int i = 0; i < pairs; i++)
                {
                    expected.WriteStartArray();
                    MessagePackValue key = NextValue(MaxDepth); // keys: scalars
                    entries[i] = KeyValuePair.Create(key, NextValue(depth + 1));
                    expected.WriteEndArray();
                }

                CanonicalJson.EndMap(expected);
                return MessagePackValue.FromMap(entries);
        }
    }

    private int NextCount() => random.Next(4) == 0 ? random.Next(14, 20) : random.Next(4);

    private byte[] NextBytes()
    {
        byte[] bytes = new byte[random.Next(3) == 0 ? s_lengths[random.Next(s_lengths.Length)] : random.Next(8)];
        random.NextBytes(bytes);
        return bytes;
    }

    private string NextString()
    {
        int length = random.Next(3) == 0 ? s_lengths[random.Next(s_lengths.Length)] : random.Next(12);
        var text = new StringBuilder(length * 2);
        for (int i = 0; i < length; i++)
        {
            int codePoint = random.Next(4) switch
            {
                0 => random.Next(0x20, 0x7f),
                1 => random.Next(0x400, 0x500),     // Cyrillic: 2 UTF-8 bytes
                2 => random.Next(0x4e00, 0x9fff),   // CJK: 3 UTF-8 bytes
                _ => random.Next(0x1f300, 0x1f600), // emoji: 4 UTF-8 bytes, a surrogate pair
            };
            text.Append(char.ConvertFromUtf32(codePoint));
        }

        return text.ToString();
    }
}
