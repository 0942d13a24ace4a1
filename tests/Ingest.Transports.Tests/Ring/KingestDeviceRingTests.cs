using Ingest.Transports.Interop;
using Ingest.Transports.Kingest;
using Ingest.Transports.Ring;
using Tmds.Linux;

namespace Ingest.Transports.Tests.Ring;

/// <summary>
/// The ring consumer against the real module: events injected with KINGEST_IOC_INJECT into the
/// ring come back in order with their payloads; the consumer position is published only when
/// acknowledged and a new consumer resumes there. Needs /dev/kingest and root (the QEMU guest:
/// run-in-guest.sh beside this file); skipped elsewhere. Other module events (sensors, netdevs)
/// share the ring, so only inject events are checked.
/// </summary>
public sealed class KingestDeviceRingTests
{
    [Fact]
    public async Task Injected_events_come_back_in_order_and_are_acknowledged()
    {
        using var device = OpenOrSkip();
        var info = device.GetInfo();
        Assert.Equal(KingestAbi.AbiVersion, info.AbiVersion);
        Assert.Equal((uint)Environment.SystemPageSize, info.PageSize);

        using var source = RingSource.OpenDevice(new RingSourceOptions());
        var writer = new CheckpointingWriter { AcknowledgeOnFlush = source };
        using var stop = new CancellationTokenSource();
        var run = source.RunAsync(writer, stop.Token);

        const int count = 500;
        for (int i = 0; i < count; i++)
        {
            var accepted = device.Inject(KingestChannelFlags.Ring, (ushort)KingestEventType.Inject, Payload(i));
            Assert.Equal(KingestChannelFlags.Ring, accepted);
        }

        var events = await writer.Recorded.WaitForAsync(e => e.Type == "inject", count, TimeSpan.FromSeconds(60));
        stop.Cancel();
        await run;

        Assert.Equal(count, events.Count);
        ulong previous = 0;
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(Payload(i), events[i].Get<byte[]>("payload"));
            ulong kseq = events[i].Get<ulong>("kseq");
            Assert.True(kseq > previous, $"kseq {kseq} after {previous}");
            previous = kseq;
        }

        foreach (var name in (string[])["torn", "invalid", "resync_bytes", "invalid_position"])
        {
            Assert.Equal(0, source.Counters[name].Value);
        }

        Assert.True(source.PublishedPosition > 0);
    }

    [Fact]
    public async Task A_new_consumer_rereads_what_the_previous_one_did_not_get_acknowledged()
    {
        using var device = OpenOrSkip();
        byte[] marker = Guid.NewGuid().ToByteArray();
        ulong published;
        using (var first = RingSource.OpenDevice(new RingSourceOptions()))
        {
            var writer = new CheckpointingWriter { AcknowledgeOnFlush = first };
            using var stop = new CancellationTokenSource();
            var run = first.RunAsync(writer, stop.Token);
            await WaitForQuietAsync(writer);
            writer.AcknowledgeOnFlush = null; // from here on the broker "never answers"
            device.Inject(KingestChannelFlags.Ring, (ushort)KingestEventType.Inject, marker);
            var seen = await writer.Recorded.WaitForAsync(e => e.Type == "inject" && e.Get<byte[]>("payload").AsSpan().SequenceEqual(marker), 1, TimeSpan.FromSeconds(30));
            Assert.Single(seen);
            published = first.PublishedPosition;
            stop.Cancel();
            await run;
        }

        using var second = RingSource.OpenDevice(new RingSourceOptions());
        Assert.Equal(published, second.PublishedPosition);
        var again = new CheckpointingWriter { AcknowledgeOnFlush = second };
        using var stop2 = new CancellationTokenSource();
        var run2 = second.RunAsync(again, stop2.Token);
        var reread = await again.Recorded.WaitForAsync(e => e.Type == "inject" && e.Get<byte[]>("payload").AsSpan().SequenceEqual(marker), 1, TimeSpan.FromSeconds(30));
        stop2.Cancel();
        await run2;
        Assert.Single(reread);
        Assert.True(second.PublishedPosition > published);
    }

    private static async Task WaitForQuietAsync(CheckpointingWriter writer)
    {
        // Let the first consumer catch up with whatever the module had already queued.
        long last = -1;
        for (int i = 0; i < 50; i++)
        {
            await Task.Delay(100);
            var all = writer.Checkpoints();
            long now = all.Length == 0 ? 0 : all[^1];
            if (now == last)
            {
                return;
            }

            last = now;
        }
    }

    [Fact]
    public unsafe void Wait_on_the_read_position_ignores_records_read_but_not_acknowledged()
    {
        using var device = OpenOrSkip();
        using var mapping = KingestDeviceRing.Open();
        const string sensors = "/proc/sys/kingest/sensors_enable";
        File.WriteAllText(sensors, "0"); // nothing else produces meanwhile
        try
        {
            ulong acknowledged = Volatile.Read(ref mapping.Producer->ProducerPos);
            Volatile.Write(ref *mapping.ConsumerPosition, acknowledged);
            device.Inject(KingestChannelFlags.Ring, (ushort)KingestEventType.Inject, [1, 2, 3]);
            ulong read = Volatile.Read(ref mapping.Producer->ProducerPos);
            Assert.True(read > acknowledged);

            // Read up to `read`, acknowledged up to `acknowledged`: nothing is beyond the read position.
            Assert.Equal(0UL, device.WaitRead(read, 20));
            Assert.Equal(read - acknowledged, device.WaitRead(acknowledged, 0));

            // A bogus read position is refused, not waited on.
            var error = Assert.Throws<ErrnoException>(() => device.WaitRead(read + 8, 10));
            Assert.Equal(LibC.EINVAL, error.Errno);
        }
        finally
        {
            File.WriteAllText(sensors, "1");
        }
    }

    private static KingestDevice OpenOrSkip()
    {
        if (!File.Exists(KingestAbi.DevicePath))
        {
            Assert.Skip($"{KingestAbi.DevicePath} is absent: the kernel module is not loaded (run Ring/run-in-guest.sh)");
        }

        if (LibC.geteuid() != 0)
        {
            Assert.Skip("KINGEST_IOC_INJECT needs /dev/kingest (0600 root) opened for writing: run as root");
        }

        return KingestDevice.Open();
    }

    private static byte[] Payload(int i)
    {
        var bytes = new byte[1 + (i * 13 % 300)];
        for (int p = 0; p < bytes.Length; p++)
        {
            bytes[p] = (byte)(i + (p * 3));
        }

        return bytes;
    }
}
