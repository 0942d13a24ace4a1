using System.Text;
using Ingest.Transports.Events;
using Ingest.Transports.Netlink;
using Ingest.Transports.Tests.Fakes;

namespace Ingest.Transports.Tests.Netlink;

/// <summary>Real kernel uevents in a private namespace: net devices there announce themselves to it.</summary>
public sealed class UeventSourceTests(NetnsFixture netns) : IClassFixture<NetnsFixture>
{
    [Fact]
    public async Task Reports_a_device_add_and_a_synthetic_change_with_its_environment()
    {
        netns.SkipIfUnavailable();
        await using var run = await SourceRun.StartAsync(new UeventSource(netns.Options()));

        netns.Ip("link add ua type veth peer name ub");
        var added = await run.Writer.WaitForAsync(e => e.Type == "uevent" && e.Get<string>("devpath") == "/devices/virtual/net/ua");
        Assert.Single(added);
        var add = added[0];
        Assert.Equal("add", add.Get<string>("action"));
        Assert.Equal("net", add.Get<string>("subsystem"));
        Assert.True(add.Get<ulong>("seqnum") > 0);
        var env = add.Get<Dictionary<string, object?>>("env");
        Assert.Equal("ua", env["INTERFACE"]);
        Assert.True(int.Parse((string)env["IFINDEX"]!, System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.DoesNotContain("ACTION", env.Keys);
        Assert.DoesNotContain("SEQNUM", env.Keys);

        // A synthetic uevent (Documentation/ABI/testing/sysfs-uevent) carries our UUID and arguments.
        var uuid = Guid.NewGuid().ToString();
        netns.Shell($"echo 'change {uuid} ROLE=probe' > /sys/class/net/ua/uevent");
        var changed = await run.Writer.WaitForAsync(e => e.Type == "uevent" && e.Get<string>("action") == "change"
            && e.Get<Dictionary<string, object?>>("env").TryGetValue("SYNTH_UUID", out var u) && u as string == uuid);
        Assert.Single(changed);
        var changeEnv = changed[0].Get<Dictionary<string, object?>>("env");
        Assert.Equal("probe", changeEnv["SYNTH_ARG_ROLE"]);
        Assert.Equal("/devices/virtual/net/ua", changed[0].Get<string>("devpath"));
        Assert.True(changed[0].Get<ulong>("seqnum") > add.Get<ulong>("seqnum"));
        Assert.Equal(0L, run.Source.Counters["malformed"].Value);
        netns.Ip("link del ua");
    }

    [Fact]
    public async Task Rejects_forged_uevents_from_user_space_including_udev_style_ones()
    {
        netns.SkipIfUnavailable();
        await using var run = await SourceRun.StartAsync(new UeventSource(netns.Options()));
        using var forger = NetlinkSocket.Open(NetlinkProtocol.KobjectUevent, networkNamespace: netns.Path);

        forger.Send("add@/devices/forged\0ACTION=add\0DEVPATH=/devices/forged\0SUBSYSTEM=net\0SEQNUM=1\0"u8, run.Source.PortId);
        forger.Send("libudev\0\xfe\xed\xca\xfe"u8, run.Source.PortId);
        await RtnetlinkSourceTests.WaitUntilAsync(() => run.Source.Counters["foreign_sender"].Value == 2);

        netns.Ip("link add fu type veth peer name fv");
        Assert.NotEmpty(await run.Writer.WaitForAsync(e => e.Get<string>("devpath") == "/devices/virtual/net/fu"));
        Assert.DoesNotContain(run.Writer.Snapshot(), e => e.Get<string>("devpath") == "/devices/forged");
        netns.Ip("link del fu");
    }

    [Fact]
    public void Parses_header_promoted_fields_and_env_in_order()
    {
        var writer = new RecordingEventWriter();
        var datagram = "remove@/devices/x\0ACTION=remove\0DEVPATH=/devices/x\0SUBSYSTEM=block\0SEQNUM=18446744073709551615\0MAJOR=8\0DEVNAME=sda\0"u8;

        Assert.True(Write(datagram, writer));

        var e = Single(writer);
        Assert.Equal("remove", e.Get<string>("action"));
        Assert.Equal("/devices/x", e.Get<string>("devpath"));
        Assert.Equal("block", e.Get<string>("subsystem"));
        Assert.Equal(ulong.MaxValue, e.Get<ulong>("seqnum"));
        Assert.Equal(["MAJOR", "DEVNAME"], e.Get<Dictionary<string, object?>>("env").Keys);
        Assert.Equal(123L, e.TimestampNs);
    }

    [Fact]
    public void Writes_nil_for_absent_subsystem_and_seqnum()
    {
        var writer = new RecordingEventWriter();
        Assert.True(Write("online@/devices/cpu1\0"u8, writer));
        var e = Single(writer);
        Assert.Null(e.Data["subsystem"]);
        Assert.Null(e.Data["seqnum"]);
        Assert.Empty(e.Get<Dictionary<string, object?>>("env"));
    }

    [Theory]
    [InlineData("no-at-sign\0ACTION=add\0")]
    [InlineData("@/devices/x\0")]
    [InlineData("add@\0")]
    [InlineData("add@/devices/x\0NOEQUALS\0")]
    [InlineData("add@/devices/x\0=value\0")]
    [InlineData("add@/devices/x\0SEQNUM=12x\0")]
    [InlineData("add@/devices/x\0SEQNUM=-1\0")]
    [InlineData("")]
    public void Rejects_malformed_uevents_without_writing(string text)
    {
        var writer = new RecordingEventWriter();
        Assert.False(Write(Encoding.UTF8.GetBytes(text), writer));
        writer.Flush();
        Assert.Empty(writer.Snapshot());
        Assert.Equal(0UL, writer.NextSequence);
    }

    [Fact]
    public void Keeps_the_first_of_repeated_keys_and_counts_the_repeat()
    {
        var writer = new RecordingEventWriter();
        var duplicates = new CounterSet()["duplicate_key"];
        Assert.True(UeventSource.TryWrite("add@/d\0A=1\0B=2\0A=3\0SEQNUM=5\0SEQNUM=6\0"u8, writer, 0, new EventNameCache(UeventSource.KeyCacheCapacity), duplicates));
        var e = Single(writer);
        Assert.Equal(new Dictionary<string, object?> { ["A"] = "1", ["B"] = "2" }, e.Get<Dictionary<string, object?>>("env"));
        Assert.Equal(5UL, e.Get<ulong>("seqnum"));
        Assert.Equal(2L, duplicates.Value);
    }

    [Fact]
    public void Key_cache_reuses_names_and_stays_bounded()
    {
        var cache = new EventNameCache(UeventSource.KeyCacheCapacity);
        Assert.Same(cache.Get("DEVNAME"u8), cache.Get("DEVNAME"u8));
        for (var i = 0; i < UeventSource.KeyCacheCapacity + 10; i++)
        {
            Assert.Equal($"K{i}", cache.Get(Encoding.UTF8.GetBytes($"K{i}")).Value);
        }

        Assert.Equal(UeventSource.KeyCacheCapacity, cache.Count);
    }

    private static bool Write(ReadOnlySpan<byte> datagram, RecordingEventWriter writer) =>
        UeventSource.TryWrite(datagram, writer, 123, new EventNameCache(UeventSource.KeyCacheCapacity), new CounterSet()["duplicate_key"]);

    private static RecordedEvent Single(RecordingEventWriter writer)
    {
        writer.Flush();
        return Assert.Single(writer.Snapshot());
    }
}
