using System.Buffers.Binary;

namespace Ingest.Tests.Telemetry;

/// <summary>
/// Just enough of the protobuf wire format to walk OTLP requests: varints, fixed 32/64 and
/// length-delimited fields. Unknown fields are skipped, as protobuf readers must.
/// </summary>
internal ref struct ProtobufReader(ReadOnlySpan<byte> buffer)
{
    private ReadOnlySpan<byte> _rest = buffer;

    public int Field { get; private set; }

    public int WireType { get; private set; }

    public ulong Varint { get; private set; }

    public ReadOnlySpan<byte> Bytes { get; private set; }

    /// <summary>Reads the next field; false at the end of the buffer.</summary>
    public bool Next()
    {
        if (_rest.IsEmpty)
        {
            return false;
        }

        var tag = ReadVarint();
        Field = (int)(tag >> 3);
        WireType = (int)(tag & 7);
        switch (WireType)
        {
            case 0:
                Varint = ReadVarint();
                break;
            case 1:
                Varint = BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
                break;
            case 2:
                Bytes = Take(checked((int)ReadVarint()));
                break;
            case 5:
                Varint = BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
                break;
            default:
                throw new FormatException($"unsupported protobuf wire type {WireType} (field {Field})");
        }

        return true;
    }

    public readonly string String => System.Text.Encoding.UTF8.GetString(Bytes);

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _rest.Length)
        {
            throw new FormatException($"protobuf field {Field} runs past the end ({count} > {_rest.Length})");
        }

        var taken = _rest[..count];
        _rest = _rest[count..];
        return taken;
    }

    private ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = Take(1)[0];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new FormatException("protobuf varint longer than 10 bytes");
    }
}
