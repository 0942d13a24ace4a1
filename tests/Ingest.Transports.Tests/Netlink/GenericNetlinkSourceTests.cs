using Ingest.Transports.Netlink;
using Ingest.Transports.Tests.Fakes;
using Microsoft.Extensions.Logging;
using static Ingest.Transports.Tests.Netlink.NetlinkMessages;

namespace Ingest.Transports.Tests.Netlink;

/// <summary>
/// The generic netlink source on the host (where the kingest module cannot load: the family is
/// absent) and, at unit level, the kingest decoding of crafted KINGEST_CMD_EVENT messages laid
/// out as kmodule/include/uapi/linux/kingest.h says.
/// </summary>
public sealed class GenericNetlinkSourceTests
{
    private const ushort KingestId = 0x30;

    [Fact]
    public async Task An_absent_family_is_reported_by_name_counted_and_retried()
    {
        var logger = new ListLogger();
        var source = new GenericNetlinkSource("ingest-absent", "events", logger: logger) { RetryInterval = TimeSpan.FromMilliseconds(50) };
        await using var run = await SourceRun.StartAsync(source);

        await RtnetlinkSourceTests.WaitUntilAsync(() => source.Counters["family_absent"].Value >= 3);
        Assert.Null(source.Family);
        var errors = logger.Entries.Where(e => e.Level == LogLevel.Error).ToList();
        Assert.Single(errors); // once per absence, not once per retry
        Assert.Contains("'ingest-absent'", errors[0].Message, StringComparison.Ordinal);
        Assert.Equal("genl:ingest-absent/events", source.Name);
    }

    [Fact]
    public async Task Joins_an_existing_family_and_rejects_forged_unicasts()
    {
        var source = new GenericNetlinkSource("nlctrl", "notify");
        await using var run = await SourceRun.StartAsync(source);
        Assert.Equal((ushort)0x10, source.Family?.Id);

        using var forger = NetlinkSocket.Open(NetlinkProtocol.Generic);
        forger.Send(new NetlinkMessages().Message(0x10, [1, 2, 0, 0], Attr(2, Str("kingest")), Attr(1, U16(KingestId))).ToArray(), source.PortId);
        await RtnetlinkSourceTests.WaitUntilAsync(() => source.Counters["foreign_sender"].Value == 1);
        Assert.Equal(0L, source.Counters["malformed"].Value);
        run.Writer.Flush();
        Assert.Empty(run.Writer.Snapshot());
    }

    [Fact]
    public void Decodes_kingest_sensor_image_netdev_and_inject_events_with_the_kernel_timestamp()
    {
        var (source, writer) = Kingest();
        var datagram = new NetlinkMessages()
            .Message(KingestId, Genl(1), Attr(1, U16(1)), Attr(2, U64(41)), Attr(3, U64(1_700_000_000_123_456_789)), Attr(4, [.. U32(2), .. U32(unchecked((uint)-1500)), .. U32(3000), .. U32(0)]))
            .Message(KingestId, Genl(1), Attr(1, U16(2)), Attr(2, U64(42)), Attr(3, U64(5)), Attr(4, [.. U32(0), .. U32(9), .. U32(3), .. U32(0), 9, 10, 11]))
            .Message(KingestId, Genl(1), Attr(1, U16(3)), Attr(2, U64(43)), Attr(3, U64(6)), Attr(4, [.. U32(7), .. U32(3), .. U32(0x1043), .. U32(1500), .. "veth0"u8, .. new byte[11]]))
            .Message(KingestId, Genl(1), Attr(1, U16(4)), Attr(2, U64(44)), Attr(3, U64(7)), Attr(4, [0xca, 0xfe]))
            .ToArray();

        source.WriteDatagram(null, datagram, writer, receivedNs: 99);
        writer.Flush();

        var events = writer.Snapshot();
        Assert.Equal(4, events.Count);
        // The same shape as ring and UDP records (KingestRecordWriter): one decoder for consumers.
        Assert.Equal(["sensor", "image", "netdev", "inject"], events.Select(e => e.Type));
        var sensor = events[0];
        Assert.Equal(1_700_000_000_123_456_789L, sensor.TimestampNs);
        Assert.Equal(41UL, sensor.Get<ulong>("kseq"));
        Assert.Equal(2UL, sensor.Get<ulong>("sensor_id"));
        Assert.Equal(-1500L, sensor.Get<long>("milli_celsius"));
        Assert.Equal(3000L, sensor.Get<long>("threshold_mc"));
        Assert.False(sensor.Get<bool>("alarm"));
        var image = events[1];
        Assert.Equal(9UL, image.Get<ulong>("frame"));
        Assert.Equal(new byte[] { 9, 10, 11 }, image.Get<byte[]>("pixels"));
        var netdev = events[2];
        Assert.Equal("veth0", netdev.Get<string>("ifname"));
        Assert.Equal("up", netdev.Get<string>("event"));
        Assert.Equal(1500UL, netdev.Get<ulong>("mtu"));
        Assert.Equal(7UL, netdev.Get<ulong>("ifindex"));
        var inject = events[3];
        Assert.Equal(new byte[] { 0xca, 0xfe }, inject.Get<byte[]>("payload"));
        Assert.Equal(0L, source.Counters["malformed"].Value);
        Assert.Equal(0L, source.Counters["unknown_type"].Value);
    }

    [Fact]
    public void Malformed_kingest_messages_are_counted_and_their_neighbours_written()
    {
        var (source, writer) = Kingest();
        var datagram = new NetlinkMessages()
            .Message(KingestId, Genl(1), Attr(1, U16(4)), Attr(2, U64(1)), Attr(4, [1]))
            .Message(KingestId, Genl(1), Attr(1, U16(4)), Attr(4, [2])) // no SEQ
            .Message(KingestId, Genl(1), Attr(1, U16(1)), Attr(2, U64(3)), Attr(4, [1, 2, 3])) // sensor payload too short
            .Message(KingestId, Genl(1), Attr(1, U16(2)), Attr(2, U64(4)), Attr(4, [.. U32(0), .. U32(1), .. U32(500), .. U32(0), 1])) // image size past payload
            .Message(KingestId, Genl(1), Attr(1, U16(4)), Attr(2, [1, 2, 3])) // SEQ not a u64
            .Message(KingestId, Genl(1), Attr(1, U16(4)), AttrWithLength(2, U64(6), 2)) // nla_len 2
            .Message(KingestId, [1]) // shorter than the genl header
            .Message(KingestId, Genl(1), Attr(1, U16(77)), Attr(2, U64(8)), Attr(4, [8])) // unknown type: counted and skipped, as kingest.h asks
            .Message(KingestId, Genl(1), Attr(1, U16(4)), Attr(2, U64(9)), Attr(4, [9]))
            .ToArray();

        source.WriteDatagram(null, datagram, writer, receivedNs: 1);
        writer.Flush();

        Assert.Equal([1UL, 9UL], writer.Snapshot().Select(e => e.Get<ulong>("kseq")));
        Assert.Equal(1L, writer.Snapshot()[0].TimestampNs); // no TS_NS: receive time
        Assert.Equal(6L, source.Counters["malformed"].Value);
        Assert.Equal(1L, source.Counters["unknown_type"].Value);
    }

    [Fact]
    public void Follows_the_family_through_unregister_and_register_notifications()
    {
        var source = new GenericNetlinkSource();
        var writer = new RecordingEventWriter();
        Assert.Null(source.Family);

        // The module loads: nlctrl announces the family with its new id and groups.
        source.WriteDatagram(null, NewFamily(0x31, eventsGroup: 0x20), writer, 1);
        Assert.Equal((ushort)0x31, source.Family?.Id);
        Assert.Equal(0x20u, source.Family?.MulticastGroups["events"]);
        source.WriteDatagram(null, Inject(0x31, seq: 1), writer, 1);

        // It unloads: events under the old id are no longer taken for kingest ones.
        source.WriteDatagram(null, new NetlinkMessages().Message(0x10, [2, 2, 0, 0], Attr(2, Str("kingest")), Attr(1, U16(0x31))).ToArray(), writer, 1);
        Assert.Null(source.Family);
        Assert.Equal(1L, source.Counters["family_removed"].Value);
        source.WriteDatagram(null, Inject(0x31, seq: 2), writer, 1);

        // It loads again under another id.
        source.WriteDatagram(null, NewFamily(0x32, eventsGroup: 0x21), writer, 1);
        source.WriteDatagram(null, Inject(0x32, seq: 3), writer, 1);
        writer.Flush();

        Assert.Equal([1UL, 3UL], writer.Snapshot().Select(e => e.Get<ulong>("kseq")));
        Assert.Equal(1L, source.Counters["ignored"].Value);

        // Another family's notifications are not ours.
        source.WriteDatagram(null, new NetlinkMessages().Message(0x10, [2, 2, 0, 0], Attr(2, Str("thermal")), Attr(1, U16(0x13))).ToArray(), writer, 1);
        Assert.Equal((ushort)0x32, source.Family?.Id);
    }

    [Fact]
    public void Other_families_are_written_generically_with_every_attribute()
    {
        var source = new GenericNetlinkSource("thermal", "event");
        var writer = new RecordingEventWriter();
        Assert.True(source.Adopt(null, new GenericNetlinkFamily("thermal", 0x13, 2, 0, 27, new Dictionary<string, uint> { ["event"] = 0x12 })));
        var datagram = new NetlinkMessages()
            .Message(0x13, [5, 2, 0, 0], Attr(1, U32(3)), Attr(1, U32(4)), Nested(2, Attr(1, [7])))
            .ToArray();

        source.WriteDatagram(null, datagram, writer, 55);
        writer.Flush();

        var e = Assert.Single(writer.Snapshot());
        Assert.Equal("genl", e.Type);
        Assert.Equal(55L, e.TimestampNs);
        Assert.Equal("thermal", e.Get<string>("family"));
        Assert.Equal(5UL, e.Get<ulong>("cmd"));
        Assert.Equal(2UL, e.Get<ulong>("version"));
        var attrs = e.Get<List<object?>>("attrs").Cast<List<object?>>().ToList();
        Assert.Equal([1UL, 1UL, 0x8002UL], attrs.Select(a => (ulong)a[0]!));
        Assert.Equal(U32(4), (byte[])attrs[1][1]!);
        Assert.Equal(Attr(1, [7]), (byte[])attrs[2][1]!);
    }

    [Fact]
    public void A_family_without_the_group_is_refused_and_counted()
    {
        var logger = new ListLogger();
        var source = new GenericNetlinkSource("kingest", "events", logger: logger);
        Assert.False(source.Adopt(null, new GenericNetlinkFamily("kingest", 0x30, 1, 0, 7, new Dictionary<string, uint> { ["other"] = 1 })));
        Assert.Null(source.Family);
        Assert.Equal(1L, source.Counters["group_absent"].Value);
        Assert.Contains(logger.Entries, e => e.Message.Contains("'events'", StringComparison.Ordinal));
    }

    private static (GenericNetlinkSource Source, RecordingEventWriter Writer) Kingest()
    {
        var source = new GenericNetlinkSource();
        Assert.True(source.Adopt(null, new GenericNetlinkFamily("kingest", KingestId, 1, 0, 7, new Dictionary<string, uint> { ["events"] = 0x20 })));
        return (source, new RecordingEventWriter());
    }

    private static byte[] Genl(byte cmd) => [cmd, 1, 0, 0];

    private static byte[] Inject(ushort familyId, ulong seq) =>
        new NetlinkMessages().Message(familyId, Genl(1), Attr(1, U16(4)), Attr(2, U64(seq)), Attr(4, [0])).ToArray();

    /// <summary>CTRL_CMD_NEWFAMILY as nlctrl multicasts it when a family registers.</summary>
    private static byte[] NewFamily(ushort id, uint eventsGroup) =>
        new NetlinkMessages().Message(
            0x10,
            [1, 2, 0, 0],
            Attr(2, Str("kingest")),
            Attr(1, U16(id)),
            Attr(3, U32(1)),
            Attr(4, U32(0)),
            Attr(5, U32(7)),
            Nested(7, Nested(1, Attr(2, U32(eventsGroup)), Attr(1, Str("events"))))).ToArray();
}
