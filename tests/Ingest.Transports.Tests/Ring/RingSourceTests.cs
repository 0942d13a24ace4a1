using System.Text;
using Ingest.Transports.Kingest;
using Ingest.Transports.Ring;
using Ingest.Transports.Tests.Fakes;

namespace Ingest.Transports.Tests.Ring;

/// <summary>
/// The ring consumer against a real shared-memory ring (memfd, two mappings) written by the
/// user-space producer that follows the module's rules.
/// </summary>
public sealed class RingSourceTests
{
    private const ulong DataSize = 64 * 1024;

    [Fact]
    public async Task Emits_every_record_in_order_with_its_fields_across_many_wraps()
    {
        const int count = 5000; // about 5 MB of records through a 64 KiB ring: dozens of wraps
        using var ring = new MemoryRing(DataSize);
        var producer = new RingProducer(ring);
        using var source = new RingSource(ring.OpenConsumerMapping());
        var writer = new CheckpointingWriter { AcknowledgeOnFlush = source };
        using var stop = new CancellationTokenSource();
        var run = source.RunAsync(writer, stop.Token);

        for (int i = 0; i < count; i++)
        {
            var (type, payload) = RingRecords.For(i);
            while (!producer.HasRoom(payload.Length))
            {
                Thread.Sleep(1);
            }

            Assert.True(producer.TryWrite(type, payload, RingRecords.TimestampFor(i)));
            if (i % 7 == 0)
            {
                producer.Publish();
            }
        }

        producer.Publish();
        var events = await writer.Recorded.WaitForAsync(_ => true, count);
        stop.Cancel();
        await run;

        Assert.Equal(count, events.Count);
        for (int i = 0; i < count; i++)
        {
            AssertEvent(i, events[i]);
        }

        Assert.True(source.Counters["pad"].Value > 10, $"only {source.Counters["pad"].Value} wraps");
        Assert.Equal(count, source.Counters["records"].Value);
        foreach (var name in (string[])["torn", "invalid", "unknown_type", "bad_payload", "resync_bytes", "invalid_position", "producer_dropped"])
        {
            Assert.Equal(0, source.Counters[name].Value);
        }

        Assert.Equal(producer.Position, ring.PublishedConsumerPosition);
    }

    [Fact]
    public async Task Torn_invalid_and_unknown_records_are_counted_and_skipped_and_neighbours_stay_intact()
    {
        using var ring = new MemoryRing(DataSize);
        var producer = new RingProducer(ring);
        var good = new List<int>();
        void Good(int i)
        {
            var (type, payload) = RingRecords.For(i);
            Assert.True(producer.TryWrite(type, payload, RingRecords.TimestampFor(i)));
            good.Add(i);
        }

        byte[] sensor = RingRecords.For(0).Payload;
        Good(0);
        Assert.True(producer.TryWrite((ushort)KingestEventType.Sensor, sensor, 1, headerLength: 20, channel: 0, flags: 0)); // len < header
        Good(1);
        Assert.True(producer.TryWrite(99, sensor, 1, headerLength: 40, channel: 0, flags: 0)); // unknown type, well formed
        Good(2);
        Assert.True(producer.TryWrite((ushort)KingestEventType.Sensor, sensor, 1, headerLength: 40000, channel: 0, flags: 0)); // beyond the data area
        Good(3);
        Assert.True(producer.TryWrite((ushort)KingestEventType.Sensor, sensor, 1, headerLength: 40, channel: (byte)KingestChannel.Udp, flags: 0)); // wrong channel
        Good(4);
        Assert.True(producer.TryWrite((ushort)KingestEventType.Sensor, sensor, 1, headerLength: 40, channel: 0, flags: 0x80)); // unknown flag
        Good(5);
        Assert.True(producer.TryWrite((ushort)KingestEventType.Sensor, new byte[8], 1, headerLength: 32, channel: 0, flags: 0)); // short payload
        Good(6);
        Assert.True(producer.TryWrite((ushort)KingestEventType.Inject, new byte[16], 1, headerLength: 4000, channel: 0, flags: 0)); // torn: past producer_pos
        producer.Publish();

        using var source = new RingSource(ring.OpenConsumerMapping());
        var writer = new CheckpointingWriter { AcknowledgeOnFlush = source };
        using var stop = new CancellationTokenSource();
        var run = source.RunAsync(writer, stop.Token);
        await writer.WaitForCheckpointAsync((long)producer.Position);
        stop.Cancel();
        await run;

        var events = writer.Recorded.Snapshot();
        Assert.Equal(good.Count, events.Count);
        for (int n = 0; n < good.Count; n++)
        {
            AssertEvent(good[n], events[n]);
        }

        Assert.Equal(4, source.Counters["invalid"].Value); // short len, beyond area, channel, flags
        Assert.Equal(1, source.Counters["torn"].Value);
        Assert.Equal(1, source.Counters["unknown_type"].Value);
        Assert.Equal(1, source.Counters["bad_payload"].Value);
        Assert.True(source.Counters["resync_bytes"].Value >= 5 * 40);
        Assert.Equal(producer.Position, ring.PublishedConsumerPosition);
    }

    [Fact]
    public async Task Consumer_position_is_published_only_when_delivered()
    {
        using var ring = new MemoryRing(DataSize);
        var producer = new RingProducer(ring);
        using var source = new RingSource(ring.OpenConsumerMapping());
        var writer = new CheckpointingWriter(); // no acknowledgement until the test gives it
        using var stop = new CancellationTokenSource();
        var run = source.RunAsync(writer, stop.Token);

        for (int i = 0; i < 10; i++)
        {
            var (type, payload) = RingRecords.For(i);
            Assert.True(producer.TryWrite(type, payload, RingRecords.TimestampFor(i)));
        }

        producer.Publish();
        long checkpoint = await writer.WaitForCheckpointAsync((long)producer.Position);
        Assert.Equal(10, writer.Recorded.Snapshot().Count);
        Assert.Equal(0UL, ring.PublishedConsumerPosition);
        Assert.Equal(0UL, source.PublishedPosition);
        Assert.Equal((long)producer.Position, source.Lag); // read, but not acknowledged: still lag

        source.OnDelivered(checkpoint);
        Assert.Equal((ulong)checkpoint, ring.PublishedConsumerPosition);
        Assert.Equal((long)producer.Position - checkpoint, source.Lag);

        source.OnDelivered(checkpoint - 8); // out of order or stale: never moves back
        Assert.Equal((ulong)checkpoint, ring.PublishedConsumerPosition);
        stop.Cancel();
        await run;
    }

    [Fact]
    public async Task A_restarted_consumer_resumes_at_the_acknowledged_position_and_rereads_the_rest()
    {
        using var ring = new MemoryRing(DataSize);
        var producer = new RingProducer(ring);
        long firstCheckpoint;
        using (var first = new RingSource(ring.OpenConsumerMapping()))
        {
            var writer = new CheckpointingWriter();
            using var stop = new CancellationTokenSource();
            var run = first.RunAsync(writer, stop.Token);
            Write(producer, 0, 5);
            firstCheckpoint = await writer.WaitForCheckpointAsync((long)producer.Position);
            Write(producer, 5, 5);
            await writer.WaitForCheckpointAsync((long)producer.Position);
            Assert.Equal(10, writer.Recorded.Snapshot().Count);

            first.OnDelivered(firstCheckpoint); // the broker acknowledged only the first five; then the daemon dies
            stop.Cancel();
            await run;
        }

        Assert.Equal((ulong)firstCheckpoint, ring.PublishedConsumerPosition);
        Write(producer, 10, 3);

        using var second = new RingSource(ring.OpenConsumerMapping());
        var again = new CheckpointingWriter { AcknowledgeOnFlush = second };
        using var stop2 = new CancellationTokenSource();
        var run2 = second.RunAsync(again, stop2.Token);
        await again.WaitForCheckpointAsync((long)producer.Position);
        stop2.Cancel();
        await run2;

        var events = again.Recorded.Snapshot();
        Assert.Equal(8, events.Count);
        for (int n = 0; n < events.Count; n++)
        {
            AssertEvent(5 + n, events[n]);
        }

        Assert.Equal(producer.Position, ring.PublishedConsumerPosition);
    }

    [Fact]
    public async Task A_rewind_reads_again_from_the_published_position_and_counts_a_generation()
    {
        using var ring = new MemoryRing(DataSize);
        var producer = new RingProducer(ring);
        Write(producer, 0, 6);
        using var source = new RingSource(ring.OpenConsumerMapping());
        var writer = new CheckpointingWriter();
        using var stop = new CancellationTokenSource();
        var run = source.RunAsync(writer, stop.Token);
        await writer.WaitForCheckpointAsync((long)producer.Position);

        // The first two records were acknowledged (the end of record 1 is a record boundary);
        // what came after was lost downstream.
        ulong two = KingestRecordHeader.AlignUp((ulong)(KingestRecordHeader.Size + RingRecords.For(0).Payload.Length))
            + KingestRecordHeader.AlignUp((ulong)(KingestRecordHeader.Size + RingRecords.For(1).Payload.Length));

        source.OnDelivered((long)two);
        Assert.Equal(0, source.Generation);
        source.Rewind();
        var events = await writer.Recorded.WaitForAsync(_ => true, 10);
        Assert.Equal(1, source.Generation);
        stop.Cancel();
        await run;

        // Records 2..5 again, in order, with new daemon sequence numbers: duplicates, no gap.
        Assert.Equal(10, events.Count);
        for (int n = 0; n < 6; n++)
        {
            AssertEvent(n, events[n]);
        }

        for (int n = 0; n < 4; n++)
        {
            AssertEvent(2 + n, events[6 + n]);
        }

        Assert.Equal(two, ring.PublishedConsumerPosition);
    }

    [Fact]
    public async Task A_corrupt_published_position_is_counted_and_reading_resynchronises()
    {
        using var ring = new MemoryRing(DataSize);
        var producer = new RingProducer(ring);
        Write(producer, 0, 4);
        unsafe
        {
            *ring.ConsumerPosition = 13; // misaligned: inside record 0
        }

        using var source = new RingSource(ring.OpenConsumerMapping());
        var writer = new CheckpointingWriter { AcknowledgeOnFlush = source };
        using var stop = new CancellationTokenSource();
        var run = source.RunAsync(writer, stop.Token);
        await writer.WaitForCheckpointAsync((long)producer.Position);
        stop.Cancel();
        await run;

        Assert.Equal(1, source.Counters["invalid_position"].Value);
        var events = writer.Recorded.Snapshot();
        Assert.Equal(3, events.Count);
        for (int n = 0; n < 3; n++)
        {
            AssertEvent(1 + n, events[n]);
        }
    }

    [Fact]
    public async Task A_full_ring_drops_the_newest_at_the_producer_and_the_consumer_counts_the_gap()
    {
        using var ring = new MemoryRing(DataSize);
        var producer = new RingProducer(ring);
        using var source = new RingSource(ring.OpenConsumerMapping());
        var writer = new CheckpointingWriter(); // nothing acknowledged yet: the ring only fills
        using var stop = new CancellationTokenSource();
        var run = source.RunAsync(writer, stop.Token);

        var payload = new byte[1000];
        int written = 0;
        int dropped = 0;
        for (int i = 0; i < 100; i++)
        {
            if (producer.TryWrite(KingestEventType.Inject, payload, (ulong)i))
            {
                written++;
            }
            else
            {
                dropped++;
            }
        }

        producer.Publish();
        Assert.Equal(DataSize / 1024, (ulong)written); // 1024-byte records fill the ring exactly
        Assert.Equal((ulong)dropped, ring.ProducerDropped);
        long checkpoint = await writer.WaitForCheckpointAsync((long)producer.Position);
        Assert.False(producer.HasRoom(payload.Length));

        source.OnDelivered(checkpoint); // room again once acknowledged
        writer.AcknowledgeOnFlush = source;
        Assert.True(producer.TryWrite(KingestEventType.Inject, payload, 100));
        producer.Publish();
        var events = await writer.Recorded.WaitForAsync(_ => true, written + 1);
        stop.Cancel();
        await run;

        Assert.Equal(written + 1, events.Count);
        Assert.Equal(dropped, source.Counters["producer_dropped"].Value);
        Assert.Equal((ulong)written, events[written - 1].Get<ulong>("kseq"));
        Assert.Equal((ulong)(100 + 1), events[written].Get<ulong>("kseq")); // the gap is exactly the drops
    }

    [Fact]
    public async Task A_producer_position_out_of_range_is_counted_and_nothing_is_read_until_it_is_sane()
    {
        using var ring = new MemoryRing(DataSize);
        var producer = new RingProducer(ring);
        using var source = new RingSource(ring.OpenConsumerMapping(), new RingSourceOptions { StopCheckInterval = TimeSpan.FromMilliseconds(20) });
        var writer = new CheckpointingWriter { AcknowledgeOnFlush = source };
        using var stop = new CancellationTokenSource();
        var run = source.RunAsync(writer, stop.Token);
        Write(producer, 0, 3);
        await writer.WaitForCheckpointAsync((long)producer.Position);

        unsafe
        {
            ring.Producer->ProducerPos = producer.Position - 8; // behind what the consumer already read
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (source.Counters["invalid_position"].Value < 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        Assert.True(source.Counters["invalid_position"].Value >= 3);
        Write(producer, 3, 2); // publishes a sane position again
        await writer.WaitForCheckpointAsync((long)producer.Position);
        stop.Cancel();
        await run;

        var events = writer.Recorded.Snapshot();
        Assert.Equal(5, events.Count);
        for (int n = 0; n < events.Count; n++)
        {
            AssertEvent(n, events[n]);
        }
    }

    [Fact]
    public void The_module_ring_maps_when_the_module_is_loaded()
    {
        if (!File.Exists(KingestAbi.DevicePath))
        {
            Assert.Skip($"{KingestAbi.DevicePath} is absent: the kernel module is not loaded (the host boots with nomodule; see the QEMU scenario)");
        }

        using var source = RingSource.OpenDevice(new RingSourceOptions());
        Assert.Equal("ring", source.Channel);
        Assert.Equal(KingestAbi.DevicePath, source.Name);
    }

    [Fact]
    public async Task Stops_promptly_when_cancelled_while_waiting()
    {
        using var ring = new MemoryRing(DataSize);
        using var source = new RingSource(ring.OpenConsumerMapping(), new RingSourceOptions { StopCheckInterval = TimeSpan.FromSeconds(1) });
        var writer = new RecordingEventWriter();
        using var stop = new CancellationTokenSource();
        var run = source.RunAsync(writer, stop.Token);
        await Task.Delay(50, TestContext.Current.CancellationToken);
        stop.Cancel();
        await run.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Empty(writer.Snapshot());
    }

    private static void Write(RingProducer producer, int first, int count)
    {
        for (int i = first; i < first + count; i++)
        {
            var (type, payload) = RingRecords.For(i);
            Assert.True(producer.TryWrite(type, payload, RingRecords.TimestampFor(i)));
            producer.Publish(); // one burst each, so checkpoints fall between records
        }
    }

    private static void AssertEvent(int i, RecordedEvent e)
    {
        var (type, payload) = RingRecords.For(i);
        Assert.Equal((long)RingRecords.TimestampFor(i), e.TimestampNs);
        switch (type)
        {
            case KingestEventType.Sensor:
                Assert.Equal("sensor", e.Type);
                Assert.Equal((ulong)(i % 64), e.Get<ulong>("sensor_id"));
                Assert.Equal(-4000L + i, e.Get<long>("milli_celsius"));
                Assert.Equal(5000L, e.Get<long>("threshold_mc"));
                Assert.Equal(i % 3 == 0, e.Get<bool>("alarm"));
                break;
            case KingestEventType.Image:
                Assert.Equal("image", e.Type);
                Assert.Equal((ulong)i, e.Get<ulong>("frame"));
                Assert.Equal(payload[KingestThermalImage.Size..], e.Get<byte[]>("pixels"));
                break;
            case KingestEventType.Netdev:
                Assert.Equal("netdev", e.Type);
                Assert.Equal((ulong)i, e.Get<ulong>("ifindex"));
                Assert.Equal($"veth{i % 1000}", e.Get<string>("ifname"));
                Assert.Equal((ulong)(1 + (i % 5)), e.Get<ulong>("event_code"));
                Assert.Equal(((string[])["register", "unregister", "up", "down", "change"])[i % 5], e.Get<string>("event"));
                Assert.Equal(1500UL, e.Get<ulong>("mtu"));
                break;
            default:
                Assert.Equal("inject", e.Type);
                Assert.Equal(payload, e.Get<byte[]>("payload"));
                Assert.False(e.Get<bool>("truncated"));
                break;
        }
    }
}
