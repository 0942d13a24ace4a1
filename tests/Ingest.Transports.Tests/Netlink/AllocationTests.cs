using Ingest.Testing;
using Ingest.Transports.Events;
using Ingest.Transports.Netlink;
using static Ingest.Transports.Tests.Netlink.NetlinkMessages;

namespace Ingest.Transports.Tests.Netlink;

/// <summary>The per-event decode paths allocate nothing once warm (IPv6 text excepted, see NetlinkText).</summary>
public sealed class AllocationTests
{
    [Fact]
    public void Rtnetlink_link_and_ipv4_addr_decoding_does_not_allocate()
    {
        var datagram = new NetlinkMessages()
            .Message(16, IfInfo(3, 0x11043), Attr(3, Str("veth0")), Attr(4, U32(1500)), Attr(16, [6]), Attr(1, [2, 0, 0, 0, 0, 10]))
            .Message(20, IfAddr(2, 24, 3), Attr(1, [10, 1, 2, 3]), Attr(2, [10, 1, 2, 3]), Attr(3, Str("veth0")))
            .ToArray();
        var source = new RtnetlinkSource();
        var writer = new CountingEventWriter();

        Assert.Equal(0, AllocatedBytes(() => source.WriteDatagram(datagram, writer, 1)));
        Assert.Equal(2000L, writer.Count);
        Assert.Equal(0L, source.Counters["malformed"].Value);
    }

    [Fact]
    public void Uevent_decoding_does_not_allocate_once_its_keys_are_known()
    {
        var datagram = "change@/devices/virtual/net/lo\0ACTION=change\0DEVPATH=/devices/virtual/net/lo\0SUBSYSTEM=net\0INTERFACE=lo\0IFINDEX=1\0SEQNUM=4711\0"u8.ToArray();
        var keys = new EventNameCache(UeventSource.KeyCacheCapacity);
        var duplicates = new CounterSet()["duplicate_key"];
        var writer = new CountingEventWriter();

        Assert.Equal(0, AllocatedBytes(() => UeventSource.TryWrite(datagram, writer, 1, keys, duplicates)));
        Assert.Equal(1000L, writer.Count);
    }

    [Fact]
    public void Kingest_decoding_does_not_allocate()
    {
        var source = new GenericNetlinkSource();
        Assert.True(source.Adopt(null, new GenericNetlinkFamily("kingest", 0x30, 1, 0, 7, new Dictionary<string, uint> { ["events"] = 0x20 })));
        var datagram = new NetlinkMessages()
            .Message(0x30, [1, 1, 0, 0], Attr(1, U16(1)), Attr(2, U64(1)), Attr(3, U64(2)), Attr(4, [.. U32(1), .. U32(2), .. U32(3), .. U32(1)]))
            .ToArray();
        var writer = new CountingEventWriter();

        Assert.Equal(0, AllocatedBytes(() => source.WriteDatagram(null, datagram, writer, 1)));
        Assert.Equal(1000L, writer.Count);
    }

    /// <summary>Bytes allocated by 1000 calls after a warm-up call (JIT, caches).</summary>
    private static long AllocatedBytes(Action action) => SteadyAllocation.Bytes(action, repetitions: 333);
}
