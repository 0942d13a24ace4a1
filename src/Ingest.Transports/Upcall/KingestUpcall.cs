using System.Buffers.Text;

namespace Ingest.Transports.Upcall;

/// <summary>
/// The kingest module's upcall, mirrored from kmodule/include/uapi/linux/kingest.h: argv [0] helper,
/// [1] "event", [2] type, [3] seq, [4] ts_ns (decimal), [5] payload as lowercase hex (at most 256
/// bytes, "" if empty); env KINGEST_LEN (full payload bytes) and KINGEST_TRUNCATED (0|1).
/// </summary>
internal struct KingestUpcall
{
    public const int MaxPayload = 256;

    public ushort Type;
    public ulong Seq;
    public long TimestampNs;
    public int PayloadLength;
    public uint FullLength;
    public bool Truncated;

    /// <summary>True when <paramref name="message"/> is a kingest upcall (argv[1] is "event").</summary>
    public static bool IsKingest(in UpcallMessage message) =>
        message.ArgCount >= 2 && message.Arg(1).SequenceEqual("event"u8);

    /// <summary>Decodes the typed fields and the payload into <paramref name="payload"/> (MaxPayload bytes).</summary>
    public static bool TryDecode(in UpcallMessage message, Span<byte> payload, out KingestUpcall upcall)
    {
        upcall = default;
        if (message.ArgCount < 6)
        {
            return false;
        }

        var args = message.GetEnumerator();
        args.MoveNext();
        args.MoveNext();
        if (!NextDecimal(ref args, out var type) || type > ushort.MaxValue
            || !NextDecimal(ref args, out upcall.Seq)
            || !NextDecimal(ref args, out var timestamp) || timestamp > long.MaxValue)
        {
            return false;
        }

        upcall.Type = (ushort)type;
        upcall.TimestampNs = (long)timestamp;

        args.MoveNext();
        var hex = args.Current;
        if (hex.Length % 2 != 0 || hex.Length / 2 > payload.Length || !TryDecodeHex(hex, payload))
        {
            return false;
        }

        upcall.PayloadLength = hex.Length / 2;
        upcall.FullLength = (uint)upcall.PayloadLength;
        if (message.TryGetEnv("KINGEST_LEN"u8, out var len)
            && (!Utf8Parser.TryParse(len, out upcall.FullLength, out var used) || used != len.Length || upcall.FullLength < upcall.PayloadLength))
        {
            return false;
        }

        if (message.TryGetEnv("KINGEST_TRUNCATED"u8, out var truncated))
        {
            if (truncated.Length != 1 || (truncated[0] != (byte)'0' && truncated[0] != (byte)'1'))
            {
                return false;
            }

            upcall.Truncated = truncated[0] == (byte)'1';
        }

        return true;
    }

    private static bool NextDecimal(ref UpcallMessage.Enumerator args, out ulong value)
    {
        args.MoveNext();
        var text = args.Current;
        return Utf8Parser.TryParse(text, out value, out var used) && used == text.Length && text.Length > 0;
    }

    private static bool TryDecodeHex(ReadOnlySpan<byte> hex, Span<byte> destination)
    {
        for (var i = 0; i < hex.Length; i += 2)
        {
            var hi = HexValue(hex[i]);
            var lo = HexValue(hex[i + 1]);
            if ((hi | lo) < 0)
            {
                return false;
            }

            destination[i / 2] = (byte)((hi << 4) | lo);
        }

        return true;
    }

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        _ => -1,
    };
}
