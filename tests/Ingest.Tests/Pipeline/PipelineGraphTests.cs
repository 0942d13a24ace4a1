using Ingest.Encoding;
using Ingest.Pipeline;
using Microsoft.Extensions.Logging.Abstractions;
using MessagePackReader = global::MessagePack.MessagePackReader;

namespace Ingest.Tests.Pipeline;

public class PipelineGraphTests
{
    private static PipelineOptions Options(int maxEvents = 1000, int maxBytes = 512 * 1024, int lingerMs = 20, int sourceCapacity = 4, WhenFull sourceWhenFull = WhenFull.Block, int sinkCapacity = 2) => new()
    {
        Batch = new BatchOptions { MaxEvents = maxEvents, MaxBytes = maxBytes, LingerMs = lingerMs, ChunkBytes = 1024 },
        SourceEdge = new EdgeOptions { Capacity = sourceCapacity, WhenFull = sourceWhenFull },
        SinkEdge = new EdgeOptions { Capacity = sinkCapacity, WhenFull = WhenFull.Block },
    };

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }

    private static List<(ulong Seq, long Ts, string Type, long N)> Events(OutgoingRecord record)
    {
        var decoded = RecordDecoder.Decode(record.Value);
        var result = new List<(ulong, long, string, long)>();
        foreach (var raw in decoded.Events)
        {
            var r = new MessagePackReader(raw);
            Assert.Equal(4, r.ReadMapHeader());
            Assert.Equal("seq", r.ReadString());
            var seq = r.ReadUInt64();
            Assert.Equal("ts", r.ReadString());
            var ts = r.ReadInt64();
            Assert.Equal("type", r.ReadString());
            var type = r.ReadString()!;
            Assert.Equal("data", r.ReadString());
            Assert.Equal(1, r.ReadMapHeader());
            Assert.Equal("n", r.ReadString());
            result.Add((seq, ts, type, r.ReadInt64()));
            Assert.True(r.End);
        }

        return result;
    }

    [Fact]
    public async Task Records_follow_the_wire_contract()
    {
        var source = new ScriptedSource("udp", "127.0.0.1:5555");
        var publisher = new FakePublisher();
        await using var graph = new PipelineGraph(Options(), "sensor-7", [source], publisher, NullLogger.Instance);
        graph.Start();
        source.Emit(3);
        await Until(() => publisher.Snapshot().Count == 1, "one record");

        var record = publisher.Snapshot()[0];
        Assert.Equal("kernel.events", record.Topic);
        Assert.Equal("sensor-7"u8.ToArray(), record.Key);
        Assert.Equal(3, record.Count);
        var decoded = RecordDecoder.Decode(record.Value);
        Assert.Equal((1L, "sensor-7", "udp", "127.0.0.1:5555"), (decoded.Version, decoded.Host, decoded.Channel, decoded.Source));
        Assert.Equal([(0UL, 1000L, "tick", 0L), (1UL, 1001L, "tick", 1L), (2UL, 1002L, "tick", 2L)], Events(record));
    }

    [Fact]
    public async Task A_batch_closes_on_event_count_at_a_chunk_boundary()
    {
        var source = new ScriptedSource();
        var publisher = new FakePublisher();
        await using var graph = new PipelineGraph(Options(maxEvents: 10, lingerMs: 60_000), "h", [source], publisher, NullLogger.Instance);
        graph.Start();
        for (var i = 0; i < 5; i++)
        {
            source.Emit(5, start: i * 5);
        }

        await Until(() => publisher.Snapshot().Count == 2, "two full batches");
        Assert.Equal([10, 10], publisher.Snapshot().Select(r => r.Count));
        await graph.StopAsync(TimeSpan.FromSeconds(5));
        Assert.Equal([10, 10, 5], publisher.Snapshot().Select(r => r.Count));
        Assert.Equal(Enumerable.Range(0, 25).Select(i => (ulong)i), publisher.Snapshot().SelectMany(Events).Select(e => e.Seq));
    }

    [Fact]
    public async Task A_batch_closes_on_bytes()
    {
        var source = new ScriptedSource();
        var publisher = new FakePublisher();
        await using var graph = new PipelineGraph(Options(maxBytes: 1024, lingerMs: 60_000), "h", [source], publisher, NullLogger.Instance);
        graph.Start();
        for (var i = 0; i < 10; i++)
        {
            source.Emit(20, start: i * 20); // ~20 bytes an event: each chunk ~400 bytes
        }

        await graph.StopAsync(TimeSpan.FromSeconds(5));
        var records = publisher.Snapshot();
        Assert.True(records.Count >= 4, $"expected several records, got {records.Count}");
        Assert.All(records.SkipLast(1), r => Assert.True(r.Value.Length - 60 <= 1024 + 512, $"record of {r.Value.Length} bytes"));
        Assert.Equal(200, records.Sum(r => r.Count));
    }

    [Fact]
    public async Task A_batch_closes_on_linger_while_the_source_stays_open()
    {
        var source = new ScriptedSource();
        var publisher = new FakePublisher();
        await using var graph = new PipelineGraph(Options(lingerMs: 30), "h", [source], publisher, NullLogger.Instance);
        graph.Start();
        source.Emit(3);
        await Until(() => publisher.Snapshot().Count == 1, "the lingering batch");
        Assert.Equal(3, publisher.Snapshot()[0].Count);
        Assert.Equal(3, graph.Stats[0].Delivered);
    }

    [Fact]
    public async Task A_periodic_source_s_batch_closes_on_its_flush_while_another_source_s_lingers()
    {
        // Each flush of a periodic source is a whole tick's burst: waiting for more only arms a timer.
        var periodic = new PeriodicScriptedSource();
        var other = new ScriptedSource();
        var publisher = new FakePublisher();
        await using var graph = new PipelineGraph(Options(lingerMs: 60_000), "h", [periodic, other], publisher, NullLogger.Instance);
        graph.Start();
        other.Emit(2);
        periodic.Emit(3);
        periodic.Emit(4);
        await Until(() => publisher.Snapshot().Count >= 1, "the periodic source's record");
        await Task.Delay(300, TestContext.Current.CancellationToken);

        // Neither burst waited for the other; the other source's batch is still open (60 s linger).
        Assert.All(publisher.Snapshot(), r => Assert.Equal("periodic", RecordDecoder.Decode(r.Value).Source));
        Assert.Equal(7, publisher.Snapshot().Sum(r => r.Count));
        await graph.StopAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(2, publisher.Snapshot().Where(r => RecordDecoder.Decode(r.Value).Source == "scripted").Sum(r => r.Count));
    }

    [Fact]
    public async Task Drop_newest_counts_every_lost_event_and_leaves_a_gap_in_seq()
    {
        var source = new ScriptedSource();
        var publisher = new FakePublisher { Full = true };
        await using var graph = new PipelineGraph(Options(maxEvents: 10, sourceCapacity: 2, sourceWhenFull: WhenFull.DropNewest, sinkCapacity: 1), "h", [source], publisher, NullLogger.Instance);
        graph.Start();
        for (var i = 0; i < 50; i++)
        {
            source.Emit(10, start: i * 10);
        }

        var stats = graph.Stats[0];
        await Until(() => stats.Received == 500, "all 50 chunks written");
        await Until(() => stats.Dropped(DropReason.QueueFull) > 0, "drops");
        publisher.Full = false;
        await graph.StopAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(500, stats.Received);
        Assert.Equal(stats.Received, stats.Delivered + stats.DroppedTotal);
        Assert.Equal(stats.DroppedTotal, stats.Dropped(DropReason.QueueFull));
        var seqs = publisher.Snapshot().SelectMany(Events).Select(e => e.Seq).ToList();
        Assert.Equal(seqs.Order(), seqs);
        Assert.Equal(stats.Delivered, seqs.Count);
        Assert.Equal(500 - seqs.Count, stats.Dropped(DropReason.QueueFull)); // the gaps are exactly the drops
        Assert.Equal(0, stats.Read().InFlight);
    }

    [Fact]
    public async Task Block_loses_nothing_when_the_producer_is_full_for_a_while()
    {
        var source = new ScriptedSource();
        var publisher = new FakePublisher { Full = true };
        await using var graph = new PipelineGraph(Options(maxEvents: 10, sourceCapacity: 2, sinkCapacity: 1), "h", [source], publisher, NullLogger.Instance);
        graph.Start();
        for (var i = 0; i < 50; i++)
        {
            source.Emit(10, start: i * 10);
        }

        var stats = graph.Stats[0];
        await Until(() => stats.QueueDepth() == 2, "the source edge to fill");
        Assert.True(stats.Received < 500, "the source is held back by the full edge");
        publisher.Full = false;
        await Until(() => stats.Delivered == 500, "everything delivered");
        await graph.StopAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, stats.DroppedTotal);
        Assert.Equal(Enumerable.Range(0, 500).Select(i => (ulong)i), publisher.Snapshot().SelectMany(Events).Select(e => e.Seq));
    }

    [Fact]
    public async Task Checkpoints_are_acknowledged_only_after_delivery_and_in_order()
    {
        var source = new AcknowledgingScriptedSource();
        var publisher = new FakePublisher { AutoAck = false };
        await using var graph = new PipelineGraph(Options(maxEvents: 4, lingerMs: 10), "h", [source], publisher, NullLogger.Instance);
        graph.Start();
        source.Emit(4, 0, checkpoint: 100);
        source.Emit(4, 4, checkpoint: 200);
        await Until(() => publisher.Snapshot().Count == 2, "two records");
        Assert.Empty(source.Acknowledged);
        publisher.AckAll();
        Assert.Equal([100L, 200L], source.Acknowledged);
    }

    [Fact]
    public async Task A_record_closed_by_an_overflowing_chunk_does_not_carry_that_chunk_s_checkpoint()
    {
        // 256-byte chunks hold 9 of these 31-byte events: one 23-event burst is chunks of 9, 9 and
        // 5 events, and only the last carries the burst's checkpoint. With 12-event records each
        // chunk overflows the open record, so the burst is split over three records.
        var source = new AcknowledgingScriptedSource();
        var publisher = new FakePublisher { AutoAck = false };
        var options = Options(maxEvents: 12, lingerMs: 10);
        options.Batch.ChunkBytes = 256;
        await using var graph = new PipelineGraph(options, "h", [source], publisher, NullLogger.Instance);
        graph.Start();
        source.Emit(23, 0, checkpoint: 100);
        await Until(() => publisher.Snapshot().Sum(r => r.Count) == 23, "the burst's records");
        var records = publisher.Snapshot();
        Assert.True(records.Count >= 3, $"the burst is not split: records of [{string.Join(", ", records.Select(r => r.Count))}] events");

        foreach (var record in records.SkipLast(1))
        {
            record.Delivered();
        }

        Assert.Empty(source.Acknowledged); // 100 covers events that are only in the last record
        records[^1].Delivered();
        Assert.Equal([100L], source.Acknowledged);
    }

    [Fact]
    public async Task An_acknowledgement_publishes_only_when_every_earlier_record_is_acknowledged()
    {
        var source = new AcknowledgingScriptedSource();
        var publisher = new FakePublisher { AutoAck = false };
        await using var graph = new PipelineGraph(Options(maxEvents: 4, lingerMs: 10), "h", [source], publisher, NullLogger.Instance);
        graph.Start();
        source.Emit(4, 0, checkpoint: 100);
        source.Emit(4, 4, checkpoint: 200);
        source.Emit(4, 8, checkpoint: 300);
        await Until(() => publisher.Snapshot().Count == 3, "three records");
        var records = publisher.Snapshot();

        records[1].Delivered();
        records[2].Delivered();
        Assert.Empty(source.Acknowledged); // the first record may still fail: 200 and 300 must wait
        records[0].Delivered();
        Assert.Equal([300L], source.Acknowledged);
    }

    [Fact]
    public async Task A_lost_record_rewinds_the_source_and_the_re_read_tail_moves_the_position_again()
    {
        var source = new AcknowledgingScriptedSource();
        var publisher = new FakePublisher { AutoAck = false };
        await using var graph = new PipelineGraph(Options(maxEvents: 4, lingerMs: 10), "h", [source], publisher, NullLogger.Instance);
        graph.Start();
        source.Emit(4, 0, checkpoint: 100);
        source.Emit(4, 4, checkpoint: 200);
        source.Emit(4, 8, checkpoint: 300);
        await Until(() => publisher.Snapshot().Count == 3, "three records");
        var records = publisher.Snapshot();
        var stats = graph.Stats[0];

        records[0].Delivered();
        Assert.Equal([100L], source.Acknowledged);
        records[1].Failed(DropReason.DeliveryFailed);
        records[2].Delivered();

        // 300 would skip the four lost events for good: the source goes back to 100 instead.
        Assert.Equal([100L], source.Acknowledged);
        Assert.Equal(1, source.RewindRequests);
        Assert.Equal(1, stats.Rewinds);
        Assert.Equal(4, stats.Dropped(DropReason.DeliveryFailed));

        // The source re-reads from 100 in the same run; those records move the position again.
        source.CompleteRewind();
        source.Emit(4, 4, checkpoint: 200);
        source.Emit(4, 8, checkpoint: 300);
        await Until(() => publisher.Snapshot().Count == 5, "the re-read records");
        publisher.AckAll();
        Assert.Equal([100L, 200L, 300L], source.Acknowledged);
        Assert.Equal(1, stats.Rewinds); // a later loss of the old generation is already covered
        var figures = stats.Read();
        Assert.Equal((20L, 16L, 4L, 0L, 0L), (figures.Received, figures.Delivered, figures.DroppedTotal, figures.InFlight, figures.Spooled));
    }

    [Fact]
    public async Task Losses_of_records_read_before_a_rewind_do_not_rewind_again()
    {
        var source = new AcknowledgingScriptedSource();
        var publisher = new FakePublisher { AutoAck = false };
        await using var graph = new PipelineGraph(Options(maxEvents: 4, lingerMs: 10), "h", [source], publisher, NullLogger.Instance);
        graph.Start();
        source.Emit(4, 0, checkpoint: 100);
        source.Emit(4, 4, checkpoint: 200);
        await Until(() => publisher.Snapshot().Count == 2, "two records");
        var records = publisher.Snapshot();
        records[0].Failed(DropReason.DeliveryFailed);
        records[1].Failed(DropReason.DeliveryFailed);
        Assert.Equal(1, source.RewindRequests);
        Assert.Equal(1, graph.Stats[0].Rewinds);
        Assert.Empty(source.Acknowledged);
    }

    [Fact]
    public async Task An_acknowledging_source_blocks_on_the_sink_edge_whatever_its_policy()
    {
        var source = new AcknowledgingScriptedSource();
        var publisher = new FakePublisher { Full = true };
        var options = Options(maxEvents: 4, lingerMs: 5, sinkCapacity: 1);
        options.SinkEdge.WhenFull = WhenFull.DropNewest;
        await using var graph = new PipelineGraph(options, "h", [source], publisher, NullLogger.Instance);
        graph.Start();
        for (var i = 0; i < 10; i++)
        {
            source.Emit(4, i * 4, checkpoint: (i + 1) * 100);
        }

        var stats = graph.Stats[0];
        await Until(() => stats.QueueDepth() > 0, "back-pressure on the source edge");
        Assert.Equal(0, stats.DroppedTotal);
        publisher.Full = false;
        await Until(() => stats.Delivered == 40, "everything delivered");
        Assert.Equal(0, stats.DroppedTotal);
        Assert.Equal(0, stats.Rewinds);
        Assert.Equal(1000L, source.Acknowledged[^1]);
    }

    [Fact]
    public async Task A_record_the_producer_refuses_is_counted_and_the_next_ones_still_go_out()
    {
        var source = new ScriptedSource();
        var publisher = new FakePublisher { RefuseNext = true };
        await using var graph = new PipelineGraph(Options(maxEvents: 4, lingerMs: 10), "h", [source], publisher, NullLogger.Instance);
        graph.Start();
        source.Emit(4, 0);
        source.Emit(4, 4);
        var stats = graph.Stats[0];
        await Until(() => stats.Delivered == 4, "the record after the refused one");
        Assert.Equal(4, stats.Dropped(DropReason.DeliveryFailed));
        Assert.Equal([4UL, 5UL, 6UL, 7UL], publisher.Snapshot().SelectMany(Events).Select(e => e.Seq));
    }

    [Fact]
    public async Task Records_unacknowledged_at_shutdown_are_counted_as_dropped()
    {
        var source = new ScriptedSource();
        var publisher = new FakePublisher { AutoAck = false };
        var graph = new PipelineGraph(Options(), "h", [source], publisher, NullLogger.Instance);
        graph.Start();
        source.Emit(7);
        await Until(() => publisher.Snapshot().Count == 1, "the record");
        await graph.StopAsync(TimeSpan.FromMilliseconds(200));
        var stats = graph.Stats[0];
        Assert.Equal(7, stats.Received);
        Assert.Equal(0, stats.Delivered);
        Assert.Equal(7, stats.Dropped(DropReason.Shutdown));
        await graph.DisposeAsync();
    }

    [Fact]
    public async Task A_failing_source_faults_the_graph_with_its_name()
    {
        var publisher = new FakePublisher();
        await using var graph = new PipelineGraph(Options(), "h", [new FailingSource()], publisher, NullLogger.Instance);
        graph.Start();
        var e = await Assert.ThrowsAsync<SourceFailedException>(() => graph.Faulted);
        Assert.Contains("bind failed", e.Message);
        Assert.Equal("broken", e.Channel);
    }

    [Fact]
    public async Task Events_a_source_never_flushed_are_counted_as_received_and_dropped()
    {
        var publisher = new FakePublisher();
        var graph = new PipelineGraph(Options(), "h", [new UnflushedSource()], publisher, NullLogger.Instance);
        graph.Start();
        await graph.StopAsync(TimeSpan.FromSeconds(5));
        var figures = graph.Stats[0].Read();
        Assert.Equal(5, figures.Received);
        Assert.Equal(5, figures.Dropped(DropReason.Shutdown));
        Assert.Equal(0, figures.InFlight);
        Assert.Equal(0, figures.Unaccounted);
        await graph.DisposeAsync();
    }

    private sealed class UnflushedSource : Ingest.Transports.Events.IEventSource
    {
        public string Channel => "test";

        public string Name => "unflushed";

        public Ingest.Transports.Events.CounterSet Counters { get; } = new();

        public Task RunAsync(Ingest.Transports.Events.EventWriter writer, CancellationToken cancellationToken)
        {
            for (var i = 0; i < 5; i++)
            {
                writer.BeginEvent(ScriptedSource.Type, i, 1);
                writer.Write(ScriptedSource.N, (long)i);
                writer.EndEvent();
            }

            return Task.CompletedTask;
        }
    }

    private sealed class FailingSource : Ingest.Transports.Events.IEventSource
    {
        public string Channel => "broken";

        public string Name => "x";

        public Ingest.Transports.Events.CounterSet Counters { get; } = new();

        public Task RunAsync(Ingest.Transports.Events.EventWriter writer, CancellationToken cancellationToken) => throw new IOException("bind failed");
    }
}
