namespace Ingest.Transports.Signals;

/// <summary>
/// The signal channel of the kingest module, mirrored from kmodule/include/uapi/linux/kingest.h:
/// the subscribe ioctl and the 32-bit si_int payload (read as unsigned).
/// </summary>
/// <remarks>
/// Payload bits: 31..24 event type (KINGEST_EV_*), 23..16 low 8 bits of the signal channel's
/// sequence number, 15..0 detail by type: SENSOR bit 15 alarm, bits 14..8 sensor id, bits 7..0
/// whole degrees C as a signed byte; IMAGE frame number low 16 bits; NETDEV bits 15..12 event,
/// bits 11..0 ifindex low 12 bits; other types the first two payload bytes, little endian.
/// </remarks>
internal static class KingestSignal
{
    /// <summary>_IOW(0xB7, 0x02, struct kingest_signal_sub): dir write, size 8, type 0xB7, nr 2.</summary>
    public const uint IocSubscribeSignal = (1u << 30) | (8u << 16) | (0xB7u << 8) | 0x02;

    /// <summary>_IO(0xB7, 0x03).</summary>
    public const uint IocUnsubscribeSignal = (0xB7u << 8) | 0x03;

    public const int EventSensor = 1;
    public const int EventImage = 2;
    public const int EventNetdev = 3;

    public static int Type(uint value) => (int)(value >> 24);

    public static int Sequence(uint value) => (int)((value >> 16) & 0xff);

    public static int Detail(uint value) => (int)(value & 0xffff);

    public static bool SensorAlarm(uint value) => ((value >> 15) & 1) != 0;

    public static int SensorId(uint value) => (int)((value >> 8) & 0x7f);

    public static int SensorDegreesC(uint value) => (sbyte)(value & 0xff);

    public static int NetdevEvent(uint value) => (int)((value >> 12) & 0xf);

    public static int NetdevIfIndex(uint value) => (int)(value & 0xfff);
}

/// <summary>struct kingest_signal_sub (8 bytes): the argument of KINGEST_IOC_SUBSCRIBE_SIGNAL.</summary>
internal struct KingestSignalSubscription
{
    public int Signo;
    public uint Flags;
}
