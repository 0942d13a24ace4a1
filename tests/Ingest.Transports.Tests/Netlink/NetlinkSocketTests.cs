using Ingest.Transports.Interop;
using Ingest.Transports.Netlink;
using Tmds.Linux;

namespace Ingest.Transports.Tests.Netlink;

/// <summary>The socket itself: namespaces, buffer sizing, truncation, wake-up.</summary>
public sealed class NetlinkSocketTests(NetnsFixture netns) : IClassFixture<NetnsFixture>
{
    [Fact]
    public void Forced_receive_buffer_goes_past_rmem_max_when_privileged()
    {
        netns.SkipIfUnavailable();
        var rmemMax = int.Parse(File.ReadAllText("/proc/sys/net/core/rmem_max").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var wanted = Math.Max(rmemMax * 4, 8 << 20);
        using var socket = NetlinkSocket.Open(NetlinkProtocol.Route);

        Assert.True(socket.SetReceiveBufferSize(wanted));
        Assert.True(socket.ReceiveBufferSize >= wanted, $"{socket.ReceiveBufferSize} < {wanted}");

        // Without force the kernel caps it at rmem_max (and doubles it for bookkeeping).
        Assert.False(socket.SetReceiveBufferSize(wanted, force: false));
        Assert.Equal(rmemMax * 2, socket.ReceiveBufferSize);
    }

    [Fact]
    public async Task A_datagram_longer_than_the_buffer_is_counted_truncated_and_not_decoded()
    {
        netns.SkipIfUnavailable();
        var options = new NetlinkSourceOptions { NetworkNamespace = netns.Path, DatagramBufferSize = 64 };
        await using var run = await SourceRun.StartAsync(new RtnetlinkSource(options));

        netns.Ip("link add ta type veth peer name tb"); // RTM_NEWLINK is hundreds of bytes
        await RtnetlinkSourceTests.WaitUntilAsync(() => run.Source.Counters["truncated"].Value >= 1);
        run.Writer.Flush();
        Assert.Empty(run.Writer.Snapshot());
        Assert.Equal(0L, run.Source.Counters["malformed"].Value);
        netns.Ip("link del ta");
    }

    [Fact]
    public void Sockets_opened_in_a_namespace_belong_to_it_and_the_caller_stays_home()
    {
        netns.SkipIfUnavailable();
        var home = new FileInfo("/proc/thread-self/ns/net").LinkTarget;
        var inside = NetworkNamespace.Run(netns.Path, () => new FileInfo("/proc/thread-self/ns/net").LinkTarget);

        Assert.NotEqual(home, inside);
        Assert.Equal(home, new FileInfo("/proc/thread-self/ns/net").LinkTarget);
        var missing = Assert.Throws<ErrnoException>(() => NetworkNamespace.Run("/var/run/netns/ingest-no-such", () => 0));
        Assert.Equal(LibC.ENOENT, missing.Errno);
    }

    [Fact]
    public async Task Wake_releases_a_waiter_and_stays_set()
    {
        using var socket = NetlinkSocket.Open(NetlinkProtocol.Route);
        Assert.False(socket.IsWoken);
        var waiter = Task.Factory.StartNew(() => socket.Wait(-1), TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        socket.Wake();
        Assert.False(await waiter.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken)); // woken, not readable
        Assert.True(socket.IsWoken);
        Assert.False(socket.Wait(-1)); // returns at once: it stays woken
        Assert.Equal(NetlinkReceiveStatus.WouldBlock, socket.TryReceive(new byte[64]).Status);
        socket.Dispose();
        socket.Wake(); // after dispose: harmless
    }
}
