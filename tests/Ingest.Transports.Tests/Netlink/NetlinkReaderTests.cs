using Ingest.Transports.Events;
using Ingest.Transports.Netlink;
using Ingest.Transports.Tests.Fakes;
using static Ingest.Transports.Tests.Netlink.NetlinkMessages;

namespace Ingest.Transports.Tests.Netlink;

/// <summary>Crafted byte arrays through the readers: every bound is checked, neighbours survive.</summary>
public sealed class NetlinkReaderTests
{
    [Fact]
    public void Reads_every_message_of_a_datagram_with_header_fields()
    {
        var datagram = new NetlinkMessages()
            .Message(16, IfInfo(1, 0), Attr(3, Str("a")))
            .Message(20, [1, 2, 3]) // unaligned length: the next header starts padded
            .Message(3, [])
            .ToArray();

        var reader = new NetlinkMessageReader(datagram);
        Assert.True(reader.TryRead(out var first));
        Assert.Equal(16, first.Type);
        Assert.Equal(1u, first.Sequence);
        Assert.Equal(16 + 8, first.Payload.Length);
        Assert.True(reader.TryRead(out var second));
        Assert.Equal(20, second.Type);
        Assert.Equal([1, 2, 3], second.Payload.ToArray());
        Assert.True(reader.TryRead(out var third));
        Assert.Equal(3, third.Type);
        Assert.True(third.Payload.IsEmpty);
        Assert.False(reader.TryRead(out _));
        Assert.False(reader.IsMalformed);
    }

    [Theory]
    [InlineData(new byte[] { 16, 0, 0 })] // shorter than a header
    [InlineData(new byte[] { 8, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })] // nlmsg_len below the header
    [InlineData(new byte[] { 200, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })] // nlmsg_len past the end
    [InlineData(new byte[] { 255, 255, 255, 255, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })] // huge nlmsg_len
    public void Stops_at_a_broken_header_and_keeps_the_messages_before_it(byte[] broken)
    {
        var datagram = new NetlinkMessages().Message(16, IfInfo(7, 0)).Raw(broken).ToArray();
        var reader = new NetlinkMessageReader(datagram);
        Assert.True(reader.TryRead(out var first));
        Assert.Equal(16, first.Type);
        Assert.False(reader.TryRead(out _));
        Assert.True(reader.IsMalformed);
        Assert.False(reader.TryRead(out _));
    }

    [Fact]
    public void Reads_attributes_with_flags_masked_and_typed_values_checked()
    {
        var attributes = Concat(Attr(1, U32(0xdeadbeef)), Attr(0x4002, U16(7)), Attr(3, Str("eth0")), Attr(4, []), Attr(5, [9]));
        var reader = new NetlinkAttributeReader(attributes);

        Assert.True(reader.TryRead(out var a));
        Assert.True(a.TryGetUInt32(out var u32));
        Assert.Equal(0xdeadbeefu, u32);
        Assert.False(a.TryGetUInt64(out _));
        Assert.True(reader.TryRead(out var b));
        Assert.Equal(2, b.Type);
        Assert.Equal(0x4002, b.RawType);
        Assert.True(b.TryGetUInt16(out var u16));
        Assert.Equal(7, u16);
        Assert.True(reader.TryRead(out var c));
        Assert.Equal("eth0"u8.ToArray(), c.GetCString().ToArray());
        Assert.True(reader.TryRead(out var d));
        Assert.True(d.Value.IsEmpty);
        Assert.False(d.TryGetUInt8(out _));
        Assert.True(reader.TryRead(out var e));
        Assert.True(e.TryGetUInt8(out var u8));
        Assert.Equal(9, u8);
        Assert.False(reader.TryRead(out _));
        Assert.False(reader.IsMalformed);
    }

    [Theory]
    [InlineData((ushort)0)]
    [InlineData((ushort)2)]
    [InlineData((ushort)3)]
    [InlineData((ushort)200)]
    [InlineData(ushort.MaxValue)]
    public void Flags_an_attribute_whose_length_is_below_its_header_or_past_the_end(ushort nlaLength)
    {
        var attributes = Concat(Attr(1, U32(1)), AttrWithLength(2, U32(2), nlaLength), Attr(3, U32(3)));
        var reader = new NetlinkAttributeReader(attributes);
        Assert.True(reader.TryRead(out var first));
        Assert.Equal(1, first.Type);
        Assert.False(reader.TryRead(out _));
        Assert.True(reader.IsMalformed);
        Assert.False(NetlinkAttributeReader.Validate(attributes));
    }

    [Fact]
    public void Flags_a_trailing_fragment_shorter_than_an_attribute_header()
    {
        var reader = new NetlinkAttributeReader(Concat(Attr(1, U32(1)), [8, 0]));
        Assert.True(reader.TryRead(out _));
        Assert.False(reader.TryRead(out _));
        Assert.True(reader.IsMalformed);
    }

    [Fact]
    public void Validates_nested_attributes_and_catches_an_overflow_inside_them()
    {
        var good = Nested(7, Nested(1, Attr(1, Str("notify")), Attr(2, U32(16))));
        Assert.True(NetlinkAttributeReader.Validate(good));

        // The inner attribute claims 40 bytes inside an 8-byte nest; the outer one is fine.
        var overflow = Nested(7, Nested(1, AttrWithLength(2, U32(16), 40)));
        Assert.False(NetlinkAttributeReader.Validate(overflow));
        var outer = new NetlinkAttributeReader(overflow);
        Assert.True(outer.TryRead(out var nest));
        Assert.True(nest.IsNested);
        Assert.Equal(7, nest.Type);
        Assert.False(outer.IsMalformed);

        // Nesting past the depth limit is refused rather than recursed without bound.
        var deep = Attr(1, U32(1));
        for (var i = 0; i < 12; i++)
        {
            deep = Nested(1, deep);
        }

        Assert.False(NetlinkAttributeReader.Validate(deep, maxDepth: 8));
        Assert.True(NetlinkAttributeReader.Validate(deep, maxDepth: 16));
    }

    [Fact]
    public void A_malformed_rtnetlink_message_is_skipped_and_its_neighbours_are_written()
    {
        var datagram = new NetlinkMessages()
            .Message(16, IfInfo(1, 1), Attr(3, Str("one")))
            .Message(16, IfInfo(2, 1), Attr(3, Str("two")), AttrWithLength(4, U32(1500), 0)) // nla_len 0
            .Message(16, [1, 2, 3]) // shorter than ifinfomsg
            .Message(16, IfInfo(3, 1), Attr(4, [1, 2])) // IFLA_MTU shorter than u32
            .Message(20, IfAddr(2, 24, 4), Attr(2, [10, 0, 0, 1, 9])) // IFA_LOCAL of 5 bytes
            .Message(20, IfAddr(2, 24, 5), Attr(2, [10, 0, 0, 5]))
            .Message(99, []) // a type this source does not decode
            .Message(17, IfInfo(6, 0), Attr(3, Str("six")))
            .ToArray();
        var writer = new RecordingEventWriter();
        var counters = new CounterSet();

        var written = WriteRtnetlink(datagram, writer, counters);

        Assert.Equal(3, written.Count);
        Assert.Equal("one", written[0].Get<string>("ifname"));
        Assert.Equal("10.0.0.5", written[1].Get<string>("local"));
        Assert.Null(written[1].Data["address"]);
        Assert.Equal("del", written[2].Get<string>("op"));
        Assert.Equal(6L, written[2].Get<long>("ifindex"));
        Assert.Equal(4L, counters["malformed"].Value);
        Assert.Equal(1L, counters["ignored"].Value);
    }

    [Fact]
    public void A_link_message_without_optional_attributes_writes_nils()
    {
        var datagram = new NetlinkMessages().Message(16, IfInfo(9, 0)).ToArray();
        var e = Assert.Single(WriteRtnetlink(datagram, new RecordingEventWriter(), new CounterSet()));
        Assert.Null(e.Data["ifname"]);
        Assert.Null(e.Data["mtu"]);
        Assert.Null(e.Data["address"]);
        Assert.Null(e.Data["operstate"]);
        Assert.False(e.Get<bool>("up"));
    }

    private static List<RecordedEvent> WriteRtnetlink(byte[] datagram, RecordingEventWriter writer, CounterSet counters)
    {
        var source = new RtnetlinkSource();
        source.WriteDatagram(datagram, writer, 1);
        writer.Flush();
        foreach (var counter in source.Counters.All)
        {
            counters[counter.Name].Add(counter.Value);
        }

        return [.. writer.Snapshot()];
    }

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}
