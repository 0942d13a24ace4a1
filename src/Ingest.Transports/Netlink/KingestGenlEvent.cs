using Ingest.Transports.Events;
using Ingest.Transports.Kingest;

namespace Ingest.Transports.Netlink;

/// <summary>
/// One KINGEST_CMD_EVENT of the kingest family: its attributes (TYPE u16, SEQ u64, TS_NS u64,
/// PAYLOAD) become the record header the ring and UDP channels carry, so the event is written by
/// the same <see cref="KingestRecordWriter"/> and has the same shape on every channel.
/// </summary>
internal static class KingestGenlEvent
{
    /// <summary>
    /// Writes the event. Returns false, with nothing written, when an attribute is malformed, TYPE or
    /// SEQ is missing, or the payload contradicts its type; an unknown type is counted in
    /// <paramref name="unknownType"/> and skipped, as the uapi header asks of consumers.
    /// </summary>
    public static bool TryWrite(ReadOnlySpan<byte> attributes, EventWriter writer, long receivedNs, Counter unknownType)
    {
        ushort? type = null;
        ulong? seq = null;
        var timestampNs = (ulong)receivedNs;
        ReadOnlySpan<byte> payload = default;
        var reader = new NetlinkAttributeReader(attributes);
        while (reader.TryRead(out var attribute))
        {
            switch (attribute.Type)
            {
                case KingestGenl.AttrType when attribute.TryGetUInt16(out var t):
                    type = t;
                    break;
                case KingestGenl.AttrSeq when attribute.TryGetUInt64(out var s):
                    seq = s;
                    break;
                case KingestGenl.AttrTimestampNs when attribute.TryGetUInt64(out var ts):
                    timestampNs = ts;
                    break;
                case KingestGenl.AttrPayload:
                    payload = attribute.Value;
                    break;
                case KingestGenl.AttrType or KingestGenl.AttrSeq or KingestGenl.AttrTimestampNs:
                    return false; // present but not the size its type needs
            }
        }

        if (reader.IsMalformed || type is not { } eventType || seq is not { } eventSeq)
        {
            return false;
        }

        var header = new KingestRecordHeader
        {
            Length = (uint)(KingestRecordHeader.Size + payload.Length),
            Type = eventType,
            Channel = (byte)KingestChannel.Genl,
            Seq = eventSeq,
            TimestampNs = timestampNs,
        };
        switch (KingestRecordWriter.Write(writer, header, payload))
        {
            case KingestRecordOutcome.Written:
                return true;
            case KingestRecordOutcome.UnknownType:
                unknownType.Increment();
                return true;
            default:
                return false;
        }
    }
}
