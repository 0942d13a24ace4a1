using System.Runtime.InteropServices;

namespace Ingest.Transports.Kingest;

/// <summary>
/// The mmap layout of /dev/kingest, in page offsets: meta (read-only), consumer (the only
/// writable page), producer (read-only), then the data area of <c>data_size</c> bytes.
/// </summary>
public static class KingestRingLayout
{
    public const int MetaPageOffset = 0;
    public const int ConsumerPageOffset = 1;
    public const int ProducerPageOffset = 2;
    public const int DataPageOffset = 3;

    /// <summary>KINGEST_RING_MAGIC: "KING" little endian.</summary>
    public const uint Magic = 0x474e494b;

    /// <summary>The smallest data area the module creates (64 KiB).</summary>
    public const ulong MinDataSize = 64 * 1024;
}

/// <summary>struct kingest_ring_meta: page 0, static facts of the ring.</summary>
[StructLayout(LayoutKind.Sequential, Size = Size)]
public struct KingestRingMeta
{
    public const int Size = 56;

    public uint Magic;
    public uint AbiVersion;
    public uint PageSize;
    public uint HeaderSize;
    public ulong DataSize;
    public ulong DataOffset;
    public ulong ProducerOffset;
    public ulong ConsumerOffset;
    public uint RecordAlign;
    public uint MaxRecord;
}

/// <summary>struct kingest_ring_consumer: page 1, written by user space with release semantics.</summary>
[StructLayout(LayoutKind.Sequential, Size = Size)]
public struct KingestRingConsumer
{
    public const int Size = 8;

    public ulong ConsumerPos;
}

/// <summary>struct kingest_ring_producer: page 2, written by the kernel with release semantics.</summary>
[StructLayout(LayoutKind.Sequential, Size = Size)]
public struct KingestRingProducer
{
    public const int Size = 24;

    public ulong ProducerPos;
    public ulong Dropped;
    public ulong BadConsumer;
}
