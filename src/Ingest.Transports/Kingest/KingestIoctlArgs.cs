using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Ingest.Transports.Kingest;

/// <summary>struct kingest_info: KINGEST_IOC_GET_INFO.</summary>
[StructLayout(LayoutKind.Sequential, Size = Size)]
public struct KingestInfo
{
    public const int Size = 32;

    public uint AbiVersion;
    public uint PageSize;
    public ulong RingDataSize;
    public uint ChannelCount;
    public uint MaxSensors;
    public uint MaxPayload;
    public uint Enabled;
}

/// <summary>struct kingest_wait: KINGEST_IOC_WAIT (in: timeout; out: unconsumed bytes).</summary>
[StructLayout(LayoutKind.Sequential, Size = Size)]
public struct KingestWait
{
    public const int Size = 16;

    public uint TimeoutMs;
    public uint Reserved;
    public ulong Available;
}

/// <summary>
/// struct kingest_wait_read: KINGEST_IOC_WAIT_READ (ABI 2; in: the reader's read position and a
/// timeout; out: bytes published beyond it and the producer position they were computed from).
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = Size)]
public struct KingestWaitRead
{
    public const int Size = 32;

    public ulong ReadPos;
    public uint TimeoutMs;
    public uint Reserved;
    public ulong Available;
    public ulong ProducerPos;
}

/// <summary>struct kingest_signal_sub: KINGEST_IOC_SUBSCRIBE_SIGNAL.</summary>
[StructLayout(LayoutKind.Sequential, Size = Size)]
public struct KingestSignalSubscription
{
    public const int Size = 8;

    public int Signo;
    public uint Flags;
}

/// <summary>struct kingest_threshold: KINGEST_IOC_SET_THRESHOLD.</summary>
[StructLayout(LayoutKind.Sequential, Size = Size)]
public struct KingestThreshold
{
    public const int Size = 8;

    public uint SensorId;
    public int ThresholdMc;
}

/// <summary>struct kingest_channel_stats: emitted + dropped == the channel's last sequence number.</summary>
[StructLayout(LayoutKind.Sequential, Size = Size)]
public struct KingestChannelStats
{
    public const int Size = 24;

    public ulong Emitted;
    public ulong Dropped;
    public ulong Errors;
}

/// <summary>struct kingest_stats: KINGEST_IOC_GET_STATS; slots at and beyond ChannelCount are zero.</summary>
[StructLayout(LayoutKind.Sequential, Size = Size)]
public struct KingestStats
{
    public const int Size = 200;

    public uint ChannelCount;
    public uint Enabled;
    public ChannelArray Channels;

    [InlineArray(KingestChannels.Slots)]
    public struct ChannelArray
    {
        private KingestChannelStats _element;
    }
}

/// <summary>struct kingest_inject: KINGEST_IOC_INJECT; <see cref="Data"/> is a user pointer.</summary>
[StructLayout(LayoutKind.Sequential, Size = Size)]
public struct KingestInject
{
    public const int Size = 24;

    public uint Channels;
    public ushort Type;
    public ushort Reserved;
    public uint Length;
    public uint Reserved2;
    public ulong Data;
}
