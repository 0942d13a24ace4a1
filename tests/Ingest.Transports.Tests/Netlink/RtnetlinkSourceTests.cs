using Ingest.Transports.Netlink;
using Ingest.Transports.Tests.Fakes;

namespace Ingest.Transports.Tests.Netlink;

/// <summary>Real rtnetlink multicast in a private namespace: veth pairs, addresses, overruns.</summary>
public sealed class RtnetlinkSourceTests(NetnsFixture netns) : IClassFixture<NetnsFixture>
{
    [Fact]
    public async Task Reports_link_creation_state_changes_and_deletion_exactly()
    {
        netns.SkipIfUnavailable();
        await using var run = await SourceRun.StartAsync(new RtnetlinkSource(netns.Options()));

        netns.Ip("link add va type veth peer name vb");
        netns.Ip("link set va address 02:00:00:00:00:0a mtu 1400");
        netns.Ip("link set va up");
        var up = await run.Writer.WaitForAsync(e => IsLink(e, "va") && e.Get<bool>("up"));
        Assert.NotEmpty(up);
        var linkUp = up[^1];
        Assert.Equal("new", linkUp.Get<string>("op"));
        Assert.Equal("02:00:00:00:00:0a", linkUp.Get<string>("address"));
        Assert.Equal(1400UL, linkUp.Get<ulong>("mtu"));
        Assert.Equal(1UL, linkUp.Get<ulong>("flags") & 1UL); // IFF_UP
        var ifIndex = linkUp.Get<long>("ifindex");
        Assert.True(ifIndex > 0);
        // The peer is down, so the link has no carrier: operstate is lowerlayerdown, not up.
        Assert.Equal("lowerlayerdown", linkUp.Get<string>("operstate"));

        netns.Ip("link del va");
        var deleted = await run.Writer.WaitForAsync(e => IsLink(e, "va") && e.Get<string>("op") == "del");
        Assert.Single(deleted);
        Assert.Equal(ifIndex, deleted[0].Get<long>("ifindex"));
        Assert.Equal(0L, run.Source.Counters["malformed"].Value);
        Assert.Equal(0L, run.Source.Counters["foreign_sender"].Value);
    }

    [Fact]
    public async Task Reports_ipv4_and_ipv6_address_addition_and_removal()
    {
        netns.SkipIfUnavailable();
        netns.Ip("link add aa type veth peer name ab");
        netns.Ip("link set aa up");
        await using var run = await SourceRun.StartAsync(new RtnetlinkSource(netns.Options()));

        netns.Ip("addr add 10.20.30.40/24 dev aa label aa:x");
        netns.Ip("addr add 2001:db8::7/64 dev aa nodad");
        netns.Ip("addr del 10.20.30.40/24 dev aa");

        var v4 = await run.Writer.WaitForAsync(e => e.Type == "addr" && e.Data["local"] as string == "10.20.30.40", count: 2);
        Assert.Equal(2, v4.Count);
        Assert.Equal("new", v4[0].Get<string>("op"));
        Assert.Equal("del", v4[1].Get<string>("op"));
        Assert.Equal("inet", v4[0].Get<string>("family"));
        Assert.Equal(24L, v4[0].Get<long>("prefixlen"));
        Assert.Equal("10.20.30.40", v4[0].Get<string>("address"));
        Assert.Equal("aa:x", v4[0].Get<string>("label"));

        var v6 = await run.Writer.WaitForAsync(e => e.Type == "addr" && e.Data["address"] as string == "2001:db8::7");
        Assert.Single(v6);
        Assert.Equal("inet6", v6[0].Get<string>("family"));
        Assert.Equal(64L, v6[0].Get<long>("prefixlen"));
        Assert.Equal(v4[0].Get<long>("ifindex"), v6[0].Get<long>("ifindex"));
        netns.Ip("link del aa");
    }

    [Fact]
    public async Task Rejects_and_counts_a_forged_unicast_from_user_space()
    {
        netns.SkipIfUnavailable();
        await using var run = await SourceRun.StartAsync(new RtnetlinkSource(netns.Options()));

        // A user-space process sends a well-formed RTM_NEWLINK straight to the source's port.
        using var forger = NetlinkSocket.Open(NetlinkProtocol.Route, networkNamespace: netns.Path);
        forger.Send(NetlinkMessages.NewLink(ifIndex: 4242, name: "forged"), run.Source.PortId);
        await WaitUntilAsync(() => run.Source.Counters["foreign_sender"].Value == 1);

        // A kernel event after it still arrives; the forged one never does.
        netns.Ip("link add fa type veth peer name fb");
        Assert.NotEmpty(await run.Writer.WaitForAsync(e => IsLink(e, "fa")));
        Assert.DoesNotContain(run.Writer.Snapshot(), e => e.Data.TryGetValue("ifname", out var n) && n as string == "forged");
        Assert.Equal(1L, run.Source.Counters["foreign_sender"].Value);
        netns.Ip("link del fa");
    }

    [Fact]
    public async Task Counts_an_overrun_once_per_burst_and_keeps_receiving()
    {
        netns.SkipIfUnavailable();
        netns.Ip("link add oa type veth peer name ob");
        netns.Ip("link set oa up");

        // Smallest buffer the kernel allows; the reader is held back while the burst lands.
        var logger = new ListLogger();
        var source = new RtnetlinkSource(netns.Options(receiveBufferSize: 1), logger);
        var writer = new BlockingWriter();
        using var cts = new CancellationTokenSource();
        var task = source.RunAsync(writer, cts.Token);
        await source.Ready;
        writer.Block();
        netns.Ip("link set oa mtu 1300"); // the first event: the reader takes it and blocks in Flush
        await writer.Blocked.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        var batch = string.Concat(Enumerable.Range(1, 300).Select(i => $"addr add 10.99.{i / 250}.{(i % 250) + 1}/32 dev oa\n"));
        NetnsFixture.Exec("ip", $"-n {netns.Name} -batch -", batch);
        writer.Release();

        // While the queue is still full the kernel keeps dropping (the socket is congested until
        // it drains), so keep making fresh events until one arrives.
        var arrived = false;
        for (var mtu = 1280; mtu < 1330 && !arrived; mtu++)
        {
            netns.Ip($"link set oa mtu {mtu}");
            var expected = (ulong)mtu;
            arrived = (await writer.Inner.WaitForAsync(e => IsLink(e, "oa") && e.Data["mtu"] is ulong m && m == expected, timeout: TimeSpan.FromMilliseconds(500))).Count > 0;
        }

        Assert.True(arrived, $"no event after the burst; counters {string.Join(", ", source.Counters.All)}");
        Assert.True(source.Counters["overrun"].Value >= 1, $"overrun={source.Counters["overrun"].Value}");
        var warnings = logger.Entries.Where(e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning).ToList();
        Assert.Single(warnings); // one burst, one line, however many ENOBUFS it caused
        Assert.Contains("overrun", warnings[0].Message, StringComparison.Ordinal);
        var changes = writer.Inner.Snapshot().Count(e => e.Type == "addr" && e.Get<string>("op") == "new");
        Assert.True(changes < 300, $"all {changes} address events fit a {source.ReceiveBufferSize}-byte buffer: no overrun was forced");

        // Then it dumps the current state: the link and every one of the 300 addresses.
        await WaitUntilAsync(() => source.Counters["resyncs"].Value >= 1);
        var dumped = writer.Inner.Snapshot().Where(e => e.Get<string>("op") == "dump").ToList();
        Assert.Contains(dumped, e => IsLink(e, "oa"));
        Assert.Equal(300, dumped.Where(e => e.Type == "addr").Select(e => e.Get<string>("local")).Where(a => a.StartsWith("10.99.", StringComparison.Ordinal)).Distinct().Count());
        Assert.Equal(0L, source.Counters["resync_errors"].Value);
        Assert.Equal(0L, source.Counters["malformed"].Value);
        await cts.CancelAsync();
        await task;
        netns.Ip("link del oa");
    }

    [Fact]
    public async Task Stops_promptly_when_cancelled()
    {
        netns.SkipIfUnavailable();
        var source = new RtnetlinkSource(netns.Options());
        var writer = new RecordingEventWriter();
        using var cts = new CancellationTokenSource();
        var task = source.RunAsync(writer, cts.Token);
        await source.Ready;
        await cts.CancelAsync();
        await task.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.True(task.IsCompletedSuccessfully);
        Assert.Throws<InvalidOperationException>(() => { _ = source.RunAsync(writer, CancellationToken.None); });
    }

    private static bool IsLink(RecordedEvent e, string name) =>
        e.Type == "link" && e.Data.TryGetValue("ifname", out var n) && n as string == name;

    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.True(condition(), "condition not met within 10 s");
    }
}
