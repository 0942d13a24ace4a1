using System.Buffers.Binary;
using System.IO.Hashing;

namespace Ingest.Spool;

/// <summary>
/// One record frame in a segment file:
/// <c>magic u32 | length u32 | crc32 u32 | unix_ms i64 | payload[length]</c>, little endian.
/// The CRC-32 covers length, timestamp and payload, so a torn or flipped length is caught as
/// surely as a damaged payload; the magic lets a reader find the next frame after damage.
/// </summary>
/// <remarks>
/// CRC-32 (IEEE) from System.IO.Hashing 10.0: that package line has no CRC-32C type (it arrives
/// with 11.0, built for the next runtime); its CRC-32 is vectorized and detects the same damage.
/// </remarks>
public readonly struct SpoolFrame(SpoolPosition position, SpoolPosition next, long timestampMs, byte[] payload)
{
    public const uint Magic = 0x31505349; // "ISP1"
    public const int HeaderLength = 20;

    /// <summary>Largest payload a frame may carry; anything larger in a header is damage.</summary>
    public const int MaxPayloadLength = 64 << 20;

    public static ReadOnlySpan<byte> MagicBytes => [0x49, 0x53, 0x50, 0x31];

    /// <summary>Where the frame starts.</summary>
    public SpoolPosition Position { get; } = position;

    /// <summary>Where the frame after it starts.</summary>
    public SpoolPosition Next { get; } = next;

    /// <summary>When the frame was appended (Unix milliseconds).</summary>
    public long TimestampMs { get; } = timestampMs;

    public byte[] Payload { get; } = payload;

    public static void WriteHeader(Span<byte> header, ReadOnlySpan<byte> payload, long timestampMs)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)payload.Length);
        BinaryPrimitives.WriteInt64LittleEndian(header[12..], timestampMs);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Checksum(header, payload));
    }

    /// <summary>Reads the length from a header whose magic is right; -1 when the magic is wrong or the length impossible.</summary>
    public static int PayloadLength(ReadOnlySpan<byte> header)
    {
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic)
        {
            return -1;
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        return length > MaxPayloadLength ? -1 : (int)length;
    }

    public static long Timestamp(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadInt64LittleEndian(header[12..]);

    public static bool IsIntact(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload) =>
        BinaryPrimitives.ReadUInt32LittleEndian(header[8..]) == Checksum(header, payload);

    private static uint Checksum(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload)
    {
        var crc = new Crc32();
        crc.Append(header.Slice(4, 4));
        crc.Append(header.Slice(12, 8));
        crc.Append(payload);
        return crc.GetCurrentHashAsUInt32();
    }
}
