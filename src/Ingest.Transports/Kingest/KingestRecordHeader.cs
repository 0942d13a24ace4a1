using System.Runtime.InteropServices;

namespace Ingest.Transports.Kingest;

/// <summary>
/// struct kingest_record: the header of a ring record and of a UDP datagram. <see cref="Length"/>
/// is header plus payload before padding; ring records start 8-byte aligned and never wrap.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = Size)]
public struct KingestRecordHeader
{
    public const int Size = 24;
    public const int Align = 8;

    /// <summary>KINGEST_RECORD_MAX: header plus the largest payload.</summary>
    public const int MaxRecord = Size + KingestAbi.MaxPayload;

    /// <summary>The shortest pad record: only its len and type are valid.</summary>
    public const int MinPadLength = 8;

    public uint Length;
    public ushort Type;
    public byte Channel;
    public byte Flags;
    public ulong Seq;
    public ulong TimestampNs;

    /// <summary>KINGEST_RECORD_ALIGN_UP.</summary>
    public static ulong AlignUp(ulong length) => (length + Align - 1) & ~(ulong)(Align - 1);
}
