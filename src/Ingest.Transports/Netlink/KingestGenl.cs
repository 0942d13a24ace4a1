using System.Buffers.Binary;
using Ingest.Transports.Events;

namespace Ingest.Transports.Netlink;

/// <summary>
/// Decodes the kingest module's generic netlink events (kmodule/include/uapi/linux/kingest.h:
/// family "kingest", group "events", KINGEST_CMD_EVENT with KINGEST_A_TYPE u16, KINGEST_A_SEQ u64,
/// KINGEST_A_TS_NS u64, KINGEST_A_PAYLOAD) into <c>kingest</c> events stamped with the kernel's
/// time. Payloads are the ring's: sensor reading, thermal image, netdevice event, injected bytes.
/// </summary>
internal static class KingestGenl
{
    public const string FamilyName = "kingest";
    public const string EventsGroup = "events";
    public const byte CmdEvent = 1;

    private const ushort AttrType = 1;
    private const ushort AttrSeq = 2;
    private const ushort AttrTsNs = 3;
    private const ushort AttrPayload = 4;

    private const ushort EvSensor = 1;
    private const ushort EvImage = 2;
    private const ushort EvNetdev = 3;
    private const ushort EvInject = 4;

    private const int SensorSize = 16;
    private const int ImageHeaderSize = 16;
    private const int NetdevSize = 32;
    private const int SensorAlarm = 0x01;

    private static readonly EventName Kingest = new("kingest");
    private static readonly EventName Event = new("event");
    private static readonly EventName Type = new("type");
    private static readonly EventName ChannelSeq = new("channel_seq");
    private static readonly EventName Sensor = new("sensor");
    private static readonly EventName Image = new("image");
    private static readonly EventName Netdev = new("netdev");
    private static readonly EventName Inject = new("inject");
    private static readonly EventName Unknown = new("unknown");
    private static readonly EventName SensorId = new("sensor_id");
    private static readonly EventName MilliCelsius = new("milli_celsius");
    private static readonly EventName ThresholdMc = new("threshold_mc");
    private static readonly EventName Alarm = new("alarm");
    private static readonly EventName Frame = new("frame");
    private static readonly EventName Size = new("size");
    private static readonly EventName Pixels = new("pixels");
    private static readonly EventName IfIndex = new("ifindex");
    private static readonly EventName Flags = new("flags");
    private static readonly EventName Mtu = new("mtu");
    private static readonly EventName IfName = new("ifname");
    private static readonly EventName Payload = new("payload");
    private static readonly EventName Action = new("action");

    // KINGEST_NETDEV_*, by value (0 is not used by the module).
    private static readonly EventName[] NetdevEvents =
        [new("unknown"), new("register"), new("unregister"), new("up"), new("down"), new("change")];

    /// <summary>
    /// Writes one KINGEST_CMD_EVENT (its attributes, after the genl header). False, with nothing
    /// written, when an attribute is malformed, TYPE or SEQ is missing, or the payload is shorter
    /// than its type's structure. <paramref name="unknownType"/> counts types this version does
    /// not know; they are still written, with the raw payload.
    /// </summary>
    public static bool TryWrite(ReadOnlySpan<byte> attributes, EventWriter writer, long receivedNs, Counter unknownType)
    {
        ushort? type = null;
        ulong? seq = null;
        long timestampNs = receivedNs;
        ReadOnlySpan<byte> payload = default;
        var reader = new NetlinkAttributeReader(attributes);
        while (reader.TryRead(out var attribute))
        {
            switch (attribute.Type)
            {
                case AttrType:
                    if (!attribute.TryGetUInt16(out var t))
                    {
                        return false;
                    }

                    type = t;
                    break;
                case AttrSeq:
                    if (!attribute.TryGetUInt64(out var s))
                    {
                        return false;
                    }

                    seq = s;
                    break;
                case AttrTsNs:
                    if (!attribute.TryGetUInt64(out var ts))
                    {
                        return false;
                    }

                    timestampNs = (long)ts;
                    break;
                case AttrPayload:
                    payload = attribute.Value;
                    break;
            }
        }

        if (reader.IsMalformed || type is not { } eventType || seq is not { } channelSeq)
        {
            return false;
        }

        switch (eventType)
        {
            case EvSensor when payload.Length < SensorSize:
            case EvImage when payload.Length < ImageHeaderSize
                || payload.Length - ImageHeaderSize < BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]):
            case EvNetdev when payload.Length < NetdevSize:
                return false;
        }

        var fields = eventType switch
        {
            EvSensor => 4,
            EvImage => 4,
            EvNetdev => 5,
            _ => 1,
        };
        writer.BeginEvent(Kingest, timestampNs, 3 + fields);
        writer.Write(Event, eventType switch
        {
            EvSensor => Sensor,
            EvImage => Image,
            EvNetdev => Netdev,
            EvInject => Inject,
            _ => Unknown,
        });
        writer.Write(Type, (ulong)eventType);
        writer.Write(ChannelSeq, channelSeq);
        switch (eventType)
        {
            case EvSensor:
                writer.Write(SensorId, (ulong)BinaryPrimitives.ReadUInt32LittleEndian(payload));
                writer.Write(MilliCelsius, (long)BinaryPrimitives.ReadInt32LittleEndian(payload[4..]));
                writer.Write(ThresholdMc, (long)BinaryPrimitives.ReadInt32LittleEndian(payload[8..]));
                writer.Write(Alarm, (BinaryPrimitives.ReadUInt32LittleEndian(payload[12..]) & SensorAlarm) != 0);
                break;
            case EvImage:
                var size = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
                writer.Write(SensorId, (ulong)BinaryPrimitives.ReadUInt32LittleEndian(payload));
                writer.Write(Frame, (ulong)BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]));
                writer.Write(Size, (ulong)size);
                writer.WriteBinary(Pixels, payload.Slice(ImageHeaderSize, (int)size));
                break;
            case EvNetdev:
                var netdevEvent = BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
                var name = payload.Slice(16, 16);
                var nul = name.IndexOf((byte)0);
                writer.Write(IfIndex, (ulong)BinaryPrimitives.ReadUInt32LittleEndian(payload));
                writer.Write(Flags, (ulong)BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]));
                writer.Write(Mtu, (ulong)BinaryPrimitives.ReadUInt32LittleEndian(payload[12..]));
                writer.WriteString(IfName, nul < 0 ? name : name[..nul]);
                writer.WriteKey(Action);
                if (netdevEvent < NetdevEvents.Length)
                {
                    writer.Write(NetdevEvents[netdevEvent]);
                }
                else
                {
                    writer.Write((ulong)netdevEvent);
                }

                break;
            default:
                if (eventType != EvInject)
                {
                    unknownType.Increment();
                }

                writer.WriteBinary(Payload, payload);
                break;
        }

        writer.EndEvent();
        return true;
    }
}
