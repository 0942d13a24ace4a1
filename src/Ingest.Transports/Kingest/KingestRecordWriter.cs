using System.Runtime.InteropServices;
using Ingest.Transports.Events;

namespace Ingest.Transports.Kingest;

/// <summary>What <see cref="KingestRecordWriter.Write"/> did with one record.</summary>
public enum KingestRecordOutcome
{
    /// <summary>An event was written.</summary>
    Written,

    /// <summary>A type this ABI version does not define (inject accepts any): counted and skipped.</summary>
    UnknownType,

    /// <summary>The payload is too short for its type or contradicts itself: counted and skipped.</summary>
    BadPayload,
}

/// <summary>
/// Decodes one kingest record (header + payload, from the ring or a UDP datagram) into a typed
/// event written straight from the source bytes: <c>sensor</c>, <c>image</c>, <c>netdev</c> or
/// <c>inject</c>, each with the channel's sequence number as <c>kseq</c>. The event's timestamp is
/// the record's ktime_get_real_ns.
/// </summary>
public static class KingestRecordWriter
{
    public static readonly EventName SensorType = new("sensor");
    public static readonly EventName ImageType = new("image");
    public static readonly EventName NetdevType = new("netdev");
    public static readonly EventName InjectType = new("inject");

    public static readonly EventName KseqKey = new("kseq");
    public static readonly EventName SensorIdKey = new("sensor_id");
    public static readonly EventName MilliCelsiusKey = new("milli_celsius");
    public static readonly EventName ThresholdKey = new("threshold_mc");
    public static readonly EventName AlarmKey = new("alarm");
    public static readonly EventName FrameKey = new("frame");
    public static readonly EventName PixelsKey = new("pixels");
    public static readonly EventName IfIndexKey = new("ifindex");
    public static readonly EventName IfNameKey = new("ifname");
    public static readonly EventName EventKey = new("event");
    public static readonly EventName EventCodeKey = new("event_code");
    public static readonly EventName FlagsKey = new("flags");
    public static readonly EventName MtuKey = new("mtu");
    public static readonly EventName PayloadKey = new("payload");
    public static readonly EventName TruncatedKey = new("truncated");

    private static readonly EventName[] NetdevEventNames =
    [
        new("unknown"), new("register"), new("unregister"), new("up"), new("down"), new("change"),
    ];

    /// <summary>Writes the event for <paramref name="header"/> and <paramref name="payload"/> (the bytes after the header).</summary>
    public static KingestRecordOutcome Write(EventWriter writer, in KingestRecordHeader header, ReadOnlySpan<byte> payload)
    {
        long ts = (long)header.TimestampNs;
        switch ((KingestEventType)header.Type)
        {
            case KingestEventType.Sensor:
                {
                    if (payload.Length < KingestSensorReading.Size)
                    {
                        return KingestRecordOutcome.BadPayload;
                    }

                    var reading = MemoryMarshal.Read<KingestSensorReading>(payload);
                    writer.BeginEvent(SensorType, ts, 5);
                    writer.Write(KseqKey, header.Seq);
                    writer.Write(SensorIdKey, (ulong)reading.SensorId);
                    writer.Write(MilliCelsiusKey, (long)reading.MilliCelsius);
                    writer.Write(ThresholdKey, (long)reading.ThresholdMc);
                    writer.Write(AlarmKey, (reading.Flags & KingestAbi.SensorAlarm) != 0);
                    writer.EndEvent();
                    return KingestRecordOutcome.Written;
                }

            case KingestEventType.Image:
                {
                    if (payload.Length < KingestThermalImage.Size)
                    {
                        return KingestRecordOutcome.BadPayload;
                    }

                    var image = MemoryMarshal.Read<KingestThermalImage>(payload);
                    var pixels = payload[KingestThermalImage.Size..];
                    if (image.PixelSize > (uint)pixels.Length)
                    {
                        return KingestRecordOutcome.BadPayload;
                    }

                    writer.BeginEvent(ImageType, ts, 4);
                    writer.Write(KseqKey, header.Seq);
                    writer.Write(SensorIdKey, (ulong)image.SensorId);
                    writer.Write(FrameKey, (ulong)image.Frame);
                    writer.WriteBinary(PixelsKey, pixels[..(int)image.PixelSize]);
                    writer.EndEvent();
                    return KingestRecordOutcome.Written;
                }

            case KingestEventType.Netdev:
                {
                    if (payload.Length < KingestNetdevEvent.Size)
                    {
                        return KingestRecordOutcome.BadPayload;
                    }

                    var netdev = MemoryMarshal.Read<KingestNetdevEvent>(payload);
                    ReadOnlySpan<byte> name = payload.Slice(16, KingestNetdevEvent.NameSize);
                    int nul = name.IndexOf((byte)0);
                    writer.BeginEvent(NetdevType, ts, 7);
                    writer.Write(KseqKey, header.Seq);
                    writer.Write(IfIndexKey, (ulong)netdev.IfIndex);
                    writer.WriteString(IfNameKey, nul >= 0 ? name[..nul] : name);
                    writer.Write(EventKey, netdev.Event < NetdevEventNames.Length ? NetdevEventNames[netdev.Event] : NetdevEventNames[0]);
                    writer.Write(EventCodeKey, (ulong)netdev.Event);
                    writer.Write(FlagsKey, (ulong)netdev.Flags);
                    writer.Write(MtuKey, (ulong)netdev.Mtu);
                    writer.EndEvent();
                    return KingestRecordOutcome.Written;
                }

            case KingestEventType.Inject:
                writer.BeginEvent(InjectType, ts, 3);
                writer.Write(KseqKey, header.Seq);
                writer.Write(TruncatedKey, (header.Flags & KingestAbi.RecordFlagTruncated) != 0);
                writer.WriteBinary(PayloadKey, payload);
                writer.EndEvent();
                return KingestRecordOutcome.Written;

            default:
                return KingestRecordOutcome.UnknownType;
        }
    }

    /// <summary>Reads a record header from the first <see cref="KingestRecordHeader.Size"/> bytes (little endian host).</summary>
    public static KingestRecordHeader ReadHeader(ReadOnlySpan<byte> bytes)
    {
        // The module writes host byte order; this mirror runs on little-endian x86-64 only.
        System.Diagnostics.Debug.Assert(BitConverter.IsLittleEndian);
        return MemoryMarshal.Read<KingestRecordHeader>(bytes);
    }
}
