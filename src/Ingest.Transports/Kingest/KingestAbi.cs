namespace Ingest.Transports.Kingest;

/// <summary>
/// Constants of kmodule/include/uapi/linux/kingest.h, spelled as in the header. This folder is
/// the one place C# knows the module's ABI; KingestAbiTests compares it with the header compiled
/// by gcc.
/// </summary>
public static class KingestAbi
{
    /// <summary>2: KINGEST_IOC_WAIT_READ, signals with si_code KINGEST_SIG_CODE and si_band KINGEST_SIG_BAND.</summary>
    public const uint AbiVersion = 2;
    public const string DeviceName = "kingest";
    public const string DevicePath = "/dev/kingest";
    public const string ProcDirectory = "kingest";
    public const string ProcStats = "stats";
    public const string ProcSensors = "sensors";

    /// <summary>Largest payload of one event, in bytes.</summary>
    public const int MaxPayload = 16384;

    public const int MaxSensors = 64;
    public const uint SensorAlarm = 0x01;

    /// <summary>KINGEST_RECF_TRUNCATED: the payload was cut to fit the channel (upcall only).</summary>
    public const byte RecordFlagTruncated = 0x01;

    public const uint WaitMaxMs = 60000;
    public const int MaxSignalSubscriptions = 16;

    /// <summary>KINGEST_SIG_CODE: the module's signals' si_code (POLL_MSG), which no other process can queue.</summary>
    public const int SignalCode = 3;

    /// <summary>KINGEST_SIG_BAND: the module's signals' si_band (ssi_band); never a poll mask.</summary>
    public const uint SignalBand = 0x4b494e47;
    public const uint RateMinHz = 1;
    public const uint RateMaxHz = 10000;
    public const int ThresholdMinMc = -100000;
    public const int ThresholdMaxMc = 100000;
    public const int UdpQueueMax = 4096;
    public const int UpcallQueueMax = 64;
    public const int UpcallMaxHex = 256;
    public const int UpcallHelperMax = 256;
}

/// <summary>KINGEST_CH_*: the channel that carried a record; also bit numbers of <see cref="KingestChannelFlags"/>.</summary>
public enum KingestChannel : byte
{
    Ring = 0,
    Genl = 1,
    Signal = 2,
    Upcall = 3,
    Udp = 4,
    Proc = 5,
}

/// <summary>KINGEST_CHF_*: channel enable bits.</summary>
[Flags]
public enum KingestChannelFlags : uint
{
    None = 0,
    Ring = 1u << KingestChannel.Ring,
    Genl = 1u << KingestChannel.Genl,
    Signal = 1u << KingestChannel.Signal,
    Upcall = 1u << KingestChannel.Upcall,
    Udp = 1u << KingestChannel.Udp,
    Push = Ring | Genl | Signal | Upcall | Udp,
}

/// <summary>Channel counts: defined by this ABI version, and slots in <see cref="KingestStats"/>.</summary>
public static class KingestChannels
{
    public const int Count = 6;
    public const int Slots = 8;
}

/// <summary>KINGEST_EV_*: <see cref="KingestRecordHeader.Type"/>.</summary>
public enum KingestEventType : ushort
{
    /// <summary>Ring only: skip to the next wrap. May be as short as 8 bytes.</summary>
    Pad = 0,
    Sensor = 1,
    Image = 2,
    Netdev = 3,
    Inject = 4,
}

/// <summary>KINGEST_NETDEV_*: <see cref="KingestNetdevEvent.Event"/>.</summary>
public enum KingestNetdevEventKind : uint
{
    Register = 1,
    Unregister = 2,
    Up = 3,
    Down = 4,
    Change = 5,
}
