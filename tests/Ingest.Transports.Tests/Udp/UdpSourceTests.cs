using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Ingest.Testing;
using Ingest.Transports.Tests.Fakes;
using Ingest.Transports.Udp;

namespace Ingest.Transports.Tests.Udp;

/// <summary>Real sockets on loopback: a sender socket, a UdpSource, and what the writer got.</summary>
public class UdpSourceTests
{
    private static CancellationToken TestToken => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Datagrams_arrive_with_exact_payload_source_and_kernel_timestamp()
    {
        using var source = new UdpSource(new UdpSourceOptions { Endpoint = "127.0.0.1:0" });
        using var sender = Sender(source);
        var writer = new RecordingEventWriter();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestToken);
        var run = source.RunAsync(writer, stop.Token);
        byte[][] payloads = [[1], [0, 255, 0, 255], new byte[1200], [.. "hello kernel"u8]];
        Random.Shared.NextBytes(payloads[2]);
        var before = UnixNowNs();

        foreach (var payload in payloads)
        {
            sender.Send(payload);
        }

        var events = await writer.WaitForAsync(_ => true, payloads.Length);
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10), TestToken);

        Assert.Equal(payloads.Length, events.Count);
        for (var i = 0; i < payloads.Length; i++)
        {
            Assert.Equal("datagram", events[i].Type);
            Assert.Equal(payloads[i], events[i].Get<byte[]>("payload"));
            Assert.Equal(sender.LocalEndPoint!.ToString(), events[i].Get<string>("src"));
            Assert.InRange(events[i].TimestampNs, before - 1_000_000_000L, UnixNowNs());
        }

        Assert.True(source.KernelTimestamps);
        Assert.Equal(payloads.Length, source.Counters["datagrams"].Value);
        Assert.Equal("udp", source.Channel);
        Assert.Equal(source.LocalEndPoint.ToString(), source.Name);
    }

    [Fact]
    public async Task Ten_thousand_datagrams_in_bursts_all_arrive_or_are_counted_as_kernel_drops()
    {
        const int Count = 10_000;
        using var source = new UdpSource(new UdpSourceOptions { Endpoint = "127.0.0.1:0" });
        using var sender = Sender(source);
        var writer = new CountingSeqWriter(Count);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestToken);
        var run = source.RunAsync(writer, stop.Token);

        var payload = new byte[100];
        for (var i = 0; i < Count; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(payload, i);
            sender.Send(payload);
            if (i % 500 == 499)
            {
                await Task.Yield();
            }
        }

        await WaitUntilAsync(() => writer.Received + source.Counters["kernel_dropped"].Value >= Count);
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10), TestToken);

        Assert.Equal(Count, writer.Received + source.Counters["kernel_dropped"].Value);
        Assert.Equal(0, writer.Duplicates);
        Assert.Equal(writer.Received, source.Counters["datagrams"].Value);
    }

    [Fact]
    public async Task A_trickle_is_handed_over_once_per_flush_interval_and_held_no_longer()
    {
        const int Count = 40;
        var interval = TimeSpan.FromMilliseconds(200);
        using var source = new UdpSource(new UdpSourceOptions { Endpoint = "127.0.0.1:0", FlushInterval = interval, CoalesceDelay = TimeSpan.Zero });
        using var sender = Sender(source);
        var writer = new CountingSeqWriter(Count);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestToken);
        var run = source.RunAsync(writer, stop.Token);

        // One datagram every 10 ms: each one alone in its recvmmsg.
        var payload = new byte[100];
        var sending = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < Count; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(payload, i);
            sender.Send(payload);
            await Task.Delay(10, TestToken);
        }

        var sent = sending.Elapsed;

        // No stop, no more traffic: the idle loop hands over what it holds when it is due.
        await WaitUntilAsync(() => writer.Flushed >= Count);
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10), TestToken);

        Assert.Equal(Count, writer.Received);

        // Nearly every datagram came alone in its recvmmsg (a late wake-up on a busy machine may
        // find two); hand-overs are still one per interval (+ the idle one at the end), where
        // one per recvmmsg would be about 40.
        Assert.InRange(source.Counters["batches"].Value, Count / 2, Count);
        Assert.InRange(writer.Flushes, 2, Math.Min(Count / 2, (int)(sent / interval) + 2));
        Assert.True(writer.LongestHeld < interval + TimeSpan.FromMilliseconds(300), $"an event was held {writer.LongestHeld.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task A_queue_overflow_is_counted_as_kernel_dropped()
    {
        const int Count = 2000;

        // The smallest receive buffer the kernel allows holds a handful of datagrams; nothing
        // reads until all were sent, so most are dropped by the kernel.
        using var source = new UdpSource(new UdpSourceOptions { Endpoint = "127.0.0.1:0", ReceiveBufferBytes = 1 });
        using var sender = Sender(source);
        var payload = new byte[200];
        for (var i = 0; i < Count; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(payload, i);
            sender.Send(payload);
        }

        var writer = new CountingSeqWriter(Count);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestToken);
        var run = source.RunAsync(writer, stop.Token);
        await WaitUntilAsync(() => writer.Received + source.Counters["kernel_dropped"].Value >= Count);

        // Drops reported on later datagrams (SO_RXQ_OVFL) must not be counted twice.
        for (var i = 0; i < 10; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(payload, Count + i);
            sender.Send(payload);
        }

        await WaitUntilAsync(() => writer.Received + source.Counters["kernel_dropped"].Value >= Count + 10);
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10), TestToken);

        Assert.True(source.Counters["kernel_dropped"].Value > 0);
        Assert.Equal(Count + 10, writer.Received + source.Counters["kernel_dropped"].Value);
    }

    [Fact]
    public async Task Oversize_datagrams_are_dropped_and_counted_as_truncated_and_empty_ones_as_zero_length()
    {
        using var source = new UdpSource(new UdpSourceOptions { Endpoint = "127.0.0.1:0", MaxDatagramSize = 1000 });
        using var sender = Sender(source);
        var writer = new RecordingEventWriter();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestToken);
        var run = source.RunAsync(writer, stop.Token);

        sender.Send(new byte[1001]);
        sender.Send(ReadOnlySpan<byte>.Empty);
        sender.Send(new byte[2000]);
        sender.Send(Enumerable.Repeat((byte)7, 1000).ToArray());

        var events = await writer.WaitForAsync(_ => true);
        await WaitUntilAsync(() => source.Counters["datagrams"].Value >= 4);
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10), TestToken);

        var only = Assert.Single(writer.Snapshot());
        Assert.Equal(Enumerable.Repeat((byte)7, 1000).ToArray(), only.Get<byte[]>("payload"));
        Assert.Equal(2, source.Counters["truncated"].Value);
        Assert.Equal(1, source.Counters["zero_length"].Value);
        Assert.Equal(0, source.Counters["receive_errors"].Value);
    }

    [Fact]
    public async Task Datagrams_on_both_sides_of_the_head_slot_arrive_intact_in_one_batch()
    {
        // Each datagram lands in a packed head slot plus, past ReceiveVector.HeadSize, a tail
        // slot: sizes around the boundary, the largest UDP payload, and small ones between them
        // (so one recvmmsg returns heads and joined tails side by side) must all come out whole.
        int head = ReceiveVector.HeadSize;
        int[] sizes = [1, head - 1, 7, head, head + 1, 3, 3000, 100, UdpSourceOptions.DefaultMaxDatagramSize, head * 2, 1];
        using var source = new UdpSource(new UdpSourceOptions { Endpoint = "127.0.0.1:0" });
        using var sender = Sender(source);
        var payloads = sizes.Select(size => Enumerable.Range(0, size).Select(i => (byte)((i * 31) + size)).ToArray()).ToArray();
        foreach (var payload in payloads)
        {
            sender.Send(payload);
        }

        // Queued before the first read: one recvmmsg takes them all.
        var writer = new RecordingEventWriter();
        Assert.Equal(payloads.Length, source.ReceiveBatch(writer));
        writer.Flush();
        var events = writer.Snapshot();
        Assert.Equal(payloads.Length, events.Count);
        for (var i = 0; i < payloads.Length; i++)
        {
            Assert.True(payloads[i].AsSpan().SequenceEqual(events[i].Get<byte[]>("payload")), $"datagram {i} ({sizes[i]} bytes) differs");
        }

        Assert.Equal(0, source.Counters["truncated"].Value);
    }

    [Fact]
    public async Task Receives_on_IPv6_loopback()
    {
        if (!Socket.OSSupportsIPv6)
        {
            Assert.Skip("IPv6 is not available on this host");
        }

        UdpSource source;
        try
        {
            source = new UdpSource(new UdpSourceOptions { Endpoint = "[::1]:0" });
        }
        catch (IOException e)
        {
            Assert.Skip($"cannot bind [::1]: {e.Message}");
            return;
        }

        using (source)
        {
            using var sender = Sender(source);
            var writer = new RecordingEventWriter();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestToken);
            var run = source.RunAsync(writer, stop.Token);

            sender.Send("over v6"u8);

            var events = await writer.WaitForAsync(_ => true);
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(10), TestToken);

            var e = Assert.Single(events);
            Assert.Equal("over v6"u8.ToArray(), e.Get<byte[]>("payload"));
            Assert.Equal($"[::1]:{((IPEndPoint)sender.LocalEndPoint!).Port}", e.Get<string>("src"));
            Assert.StartsWith("[::1]:", source.Name, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_dual_stack_source_names_IPv4_senders_as_mapped_addresses()
    {
        UdpSource source;
        try
        {
            source = new UdpSource(new UdpSourceOptions { Endpoint = "[::]:0" });
        }
        catch (IOException e)
        {
            Assert.Skip($"cannot bind [::]: {e.Message}");
            return;
        }

        using (source)
        {
            using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            sender.Connect(new IPEndPoint(IPAddress.Loopback, source.LocalEndPoint.Port));
            var writer = new RecordingEventWriter();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestToken);
            var run = source.RunAsync(writer, stop.Token);

            sender.Send("v4 to v6"u8);

            var events = await writer.WaitForAsync(_ => true);
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(10), TestToken);

            Assert.Equal($"[::ffff:127.0.0.1]:{((IPEndPoint)sender.LocalEndPoint!).Port}", Assert.Single(events).Get<string>("src"));
        }
    }

    [Fact]
    public async Task RunAsync_returns_after_cancellation_with_a_final_flush_and_releases_the_port()
    {
        var source = new UdpSource(new UdpSourceOptions { Endpoint = "127.0.0.1:0" });
        var endpoint = source.LocalEndPoint;
        var writer = new RecordingEventWriter();
        using var stop = new CancellationTokenSource();
        var run = source.RunAsync(writer, stop.Token);

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10), TestToken);

        Assert.True(run.IsCompletedSuccessfully);
        Assert.True(writer.Flushes >= 1);
        Assert.Throws<InvalidOperationException>(() => { _ = source.RunAsync(writer, TestToken); });

        // The loop closed its socket: the same port can be bound again.
        using var again = new UdpSource(new UdpSourceOptions { Endpoint = endpoint.ToString() });
        Assert.Equal(endpoint, again.LocalEndPoint);
        source.Dispose();
    }

    [Fact]
    public void Dispose_before_run_releases_the_port()
    {
        var source = new UdpSource(new UdpSourceOptions { Endpoint = "127.0.0.1:0" });
        var endpoint = source.LocalEndPoint;

        var busy = Assert.ThrowsAny<IOException>(() => new UdpSource(new UdpSourceOptions { Endpoint = endpoint.ToString() }));
        source.Dispose();
        using var again = new UdpSource(new UdpSourceOptions { Endpoint = endpoint.ToString() });

        Assert.Contains("bind", busy.Message, StringComparison.Ordinal);
        Assert.Equal(endpoint, again.LocalEndPoint);
    }

    [Fact]
    public void Receiving_allocates_nothing_per_datagram_after_warm_up()
    {
        const int Burst = 32;
        using var source = new UdpSource(new UdpSourceOptions { Endpoint = "127.0.0.1:0", ReceiveBatch = Burst });
        using var sender = Sender(source);
        var writer = new CountingEventWriter();
        var payload = new byte[100];

        // After 100 warm-up rounds, three windows of about 67 (as SteadyAllocation does, but
        // measuring the receive side only).
        var windows = new long[3];
        for (var round = 0; round < 300; round++)
        {
            for (var i = 0; i < Burst; i++)
            {
                sender.Send(payload);
            }

            // Loopback delivers during send: the whole burst is queued, one recvmmsg takes it.
            var before = GC.GetAllocatedBytesForCurrentThread();
            var received = 0;
            while (received < Burst)
            {
                received += source.ReceiveBatch(writer);
            }

            if (round >= 100)
            {
                windows[(round - 100) / 67] += GC.GetAllocatedBytesForCurrentThread() - before;
            }
        }

        Assert.Equal(300L * Burst, writer.Count);
        Assert.Equal(300, source.Counters["batches"].Value);
        Assert.Equal(300L * Burst * payload.Length, writer.BinaryBytes);
        Assert.Equal(300L * Burst * sender.LocalEndPoint!.ToString()!.Length, writer.TextBytes);
        // An allocation per datagram shows in every window; the runtime's own one-off (a few KB,
        // seen about once in twenty suite runs) in one only.
        Assert.True(windows.Min() == 0, $"allocated per window: {string.Join(", ", windows)}");
    }

    [Fact]
    public void Asks_for_the_receive_buffer_and_reports_what_was_granted()
    {
        var log = new List<string>();
        using var source = new UdpSource(new UdpSourceOptions { Endpoint = "127.0.0.1:0", ReceiveBufferBytes = 4 * 1024 * 1024, Log = log.Add });

        // The kernel doubles the value for its bookkeeping; without CAP_NET_ADMIN rmem_max caps it.
        if (Environment.IsPrivilegedProcess)
        {
            Assert.Equal(8 * 1024 * 1024, source.ReceiveBufferBytes);
        }
        else
        {
            Assert.True(source.ReceiveBufferBytes > 0);
        }

        Assert.Contains(log, l => l.Contains($"receive buffer {source.ReceiveBufferBytes} bytes granted", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(UdpSourceOptions.DefaultReceiveThreadNice)]
    [InlineData(3)]
    [InlineData(0)]
    public async Task The_receive_thread_runs_at_the_nice_value_asked_for_and_no_other_thread_does(int nice)
    {
        if (nice < 0 && !Environment.IsPrivilegedProcess)
        {
            Assert.Skip("a negative nice needs CAP_SYS_NICE (root)");
        }

        using var source = new UdpSource(new UdpSourceOptions { Endpoint = "127.0.0.1:0", ReceiveThreadNice = nice });
        using var sender = Sender(source);
        var writer = new RecordingEventWriter();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestToken);
        var run = source.RunAsync(writer, stop.Token);
        sender.Send([1, 2, 3]);
        await writer.WaitForAsync(_ => true);

        // The thread that read the datagram, found by its name in /proc.
        var threads = new List<(string Name, int Nice)>();
        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            try
            {
                threads.Add((File.ReadAllText(Path.Combine(task, "comm")).Trim(), Support.ThreadStat.Nice(Path.Combine(task, "stat"))));
            }
            catch (IOException)
            {
                // The thread ended between the listing and the read.
            }
        }

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10), TestToken);

        Assert.Equal(nice, source.ReceiveThreadNice);
        var receive = "udp " + source.Name;
        Assert.Contains(threads, t => receive.StartsWith(t.Name, StringComparison.Ordinal) && t.Nice == nice);
        if (nice < 0)
        {
            Assert.DoesNotContain(threads, t => !receive.StartsWith(t.Name, StringComparison.Ordinal) && t.Nice < 0);
        }
    }

    [Fact]
    public void Bad_options_fail_at_construction()
    {
        Assert.Throws<FormatException>(() => new UdpSource(new UdpSourceOptions { Endpoint = "nowhere" }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UdpSource(new UdpSourceOptions { Endpoint = "127.0.0.1:0", MaxDatagramSize = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UdpSource(new UdpSourceOptions { Endpoint = "127.0.0.1:0", ReceiveThreadNice = -21 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UdpSource(new UdpSourceOptions { Endpoint = "127.0.0.1:0", ReceiveThreadNice = 20 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UdpSource(new UdpSourceOptions { Endpoint = "127.0.0.1:0", ReceiveBatch = 2000 }));
    }

    private static Socket Sender(UdpSource source)
    {
        var socket = new Socket(source.LocalEndPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(source.LocalEndPoint);
        return socket;
    }

    private static long UnixNowNs() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * TimeSpan.NanosecondsPerTick;

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, TestToken);
        }
    }

    /// <summary>Counts datagrams by the sequence number in their first 4 bytes, to see loss and duplicates.</summary>
    private sealed class CountingSeqWriter(int expected) : Ingest.Transports.Events.EventWriter
    {
        private readonly bool[] _seen = new bool[expected + 64];
        private long _received;
        private long _duplicates;
        private long _flushed;
        private long _heldSince;

        public long Received => Interlocked.Read(ref _received);

        /// <summary>Events written before the last flush that handed over something.</summary>
        public long Flushed => Interlocked.Read(ref _flushed);

        /// <summary>Flushes that handed over events.</summary>
        public int Flushes { get; private set; }

        /// <summary>Longest an event waited between its EndEvent and the flush that handed it over.</summary>
        public TimeSpan LongestHeld { get; private set; }

        public long Duplicates => Interlocked.Read(ref _duplicates);

        public override ulong NextSequence => 0;

        public override void BeginEvent(Ingest.Transports.Events.EventName type, long timestampNs, int dataFieldCount)
        {
        }

        public override void EndEvent()
        {
            if (_heldSince == 0)
            {
                _heldSince = System.Diagnostics.Stopwatch.GetTimestamp();
            }

            Interlocked.Increment(ref _received);
        }

        public override void CancelEvent()
        {
        }

        public override void WriteKey(Ingest.Transports.Events.EventName key)
        {
        }

        public override void WriteMapHeader(int count)
        {
        }

        public override void WriteArrayHeader(int count)
        {
        }

        public override void WriteNil()
        {
        }

        public override void Write(bool value)
        {
        }

        public override void Write(long value)
        {
        }

        public override void Write(ulong value)
        {
        }

        public override void Write(double value)
        {
        }

        public override void Write(Ingest.Transports.Events.EventName value)
        {
        }

        public override void WriteString(ReadOnlySpan<char> value)
        {
        }

        public override void WriteString(ReadOnlySpan<byte> utf8)
        {
        }

        public override void WriteBinary(ReadOnlySpan<byte> value)
        {
            var seq = BinaryPrimitives.ReadInt32LittleEndian(value);
            if (_seen[seq])
            {
                Interlocked.Increment(ref _duplicates);
            }

            _seen[seq] = true;
        }

        public override void Flush(long checkpoint = -1)
        {
            if (_heldSince == 0)
            {
                return;
            }

            var held = System.Diagnostics.Stopwatch.GetElapsedTime(_heldSince);
            LongestHeld = held > LongestHeld ? held : LongestHeld;
            _heldSince = 0;
            Flushes++;
            Interlocked.Exchange(ref _flushed, Received);
        }

        public override ValueTask FlushAsync(long checkpoint = -1, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
    }
}
