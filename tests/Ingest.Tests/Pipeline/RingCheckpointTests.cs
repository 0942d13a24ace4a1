using System.Collections.Concurrent;
using Ingest.Encoding;
using Ingest.Pipeline;
using Ingest.Transports.Kingest;
using Ingest.Transports.Ring;
using Microsoft.Extensions.Logging.Abstractions;
using MessagePackReader = global::MessagePack.MessagePackReader;

namespace Ingest.Tests.Pipeline;

/// <summary>
/// The ring's at-least-once guarantee through the real pipeline (ring source, chunk writer,
/// batcher): a published consumer position never covers an event that is not in an acknowledged
/// record, even when bursts span several chunks and records split bursts.
/// </summary>
public sealed class RingCheckpointTests
{
    [Fact]
    public async Task A_published_position_never_passes_an_event_outside_the_acknowledged_records()
    {
        // Chunks of ~50 events, records of at most 300 events, bursts of 100..1500 ring records:
        // a burst spans many chunks and records close in the middle of bursts.
        const int total = 150_000;
        using var ring = new MemoryRing(4 << 20);
        var producer = new RingProducer(ring);
        var endOf = new ulong[total];
        var publisher = new HeldPublisher();
        var options = new PipelineOptions
        {
            Batch = new BatchOptions { MaxEvents = 300, MaxBytes = 512 * 1024, LingerMs = 20, ChunkBytes = 4096 },
            SourceEdge = new EdgeOptions { Capacity = 64, WhenFull = WhenFull.Block },
            SinkEdge = new EdgeOptions { Capacity = 16, WhenFull = WhenFull.Block },
        };
        using var source = new RingSource(ring.OpenConsumerMapping());
        using var stopWriting = new CancellationTokenSource();
        await using var graph = new PipelineGraph(options, "h", [source], publisher, NullLogger.Instance);
        graph.Start();

        var write = Task.Run(() =>
        {
            var random = new Random(9);
            var payload = new byte[64];
            for (int i = 0; i < total;)
            {
                int burst = Math.Min(total - i, random.Next(100, 1500));
                for (int n = 0; n < burst; n++, i++)
                {
                    int size = (i * 37) % payload.Length;
                    while (!producer.HasRoom(size))
                    {
                        if (stopWriting.IsCancellationRequested)
                        {
                            return;
                        }

                        producer.Publish();
                        Thread.Sleep(1);
                    }

                    Assert.True(producer.TryWrite(KingestEventType.Inject, payload.AsSpan(0, size), (ulong)i));
                    endOf[i] = producer.Position;
                }

                producer.Publish();
            }
        }, TestContext.Current.CancellationToken);

        // Acknowledge records one at a time, in order, and after each one look at what a SIGKILL
        // right now would leave: the published position must not pass the last acknowledged event.
        long acknowledged = 0;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        try
        {
            await AcknowledgeAll();
        }
        finally
        {
            // The writer touches the ring's memory: it must be done before the ring is unmapped.
            await stopWriting.CancelAsync();
            await write;
        }

        await graph.StopAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(total, graph.Stats[0].Delivered);
        Assert.Equal(producer.Position, ring.PublishedConsumerPosition);

        async Task AcknowledgeAll()
        {
            while (acknowledged < total)
            {
                Assert.True(DateTime.UtcNow < deadline, $"only {acknowledged} of {total} events acknowledged");
                if (!publisher.Held.TryDequeue(out var record))
                {
                    await Task.Delay(1, TestContext.Current.CancellationToken);
                    continue;
                }

                record.Delivered();
                acknowledged += record.Count;
                ulong published = ring.PublishedConsumerPosition;
                Assert.True(
                    published <= endOf[acknowledged - 1],
                    $"after {acknowledged} acknowledged events the ring's position is {published}, past the last of them ({endOf[acknowledged - 1]}): a kill now loses {CountPast(endOf, acknowledged, published)} events");
            }
        }
    }

    [Fact]
    public async Task Lost_records_rewind_the_ring_and_the_tail_is_read_again_in_the_same_run()
    {
        // One record in eight, at random, is lost on its way to the broker. Each loss sends the reader back to
        // the last published position; the run still ends with every ring record delivered, and
        // at no moment does the published position pass a record the broker does not have.
        const int total = 20_000;
        using var ring = new MemoryRing(1 << 20);
        var producer = new RingProducer(ring);
        var endOf = new ulong[total + 1];
        var publisher = new HeldPublisher();
        var options = new PipelineOptions
        {
            Batch = new BatchOptions { MaxEvents = 300, MaxBytes = 512 * 1024, LingerMs = 5, ChunkBytes = 4096 },
            SourceEdge = new EdgeOptions { Capacity = 64, WhenFull = WhenFull.Block },
            SinkEdge = new EdgeOptions { Capacity = 16, WhenFull = WhenFull.DropNewest },
        };
        using var source = new RingSource(ring.OpenConsumerMapping());
        using var stopWriting = new CancellationTokenSource();
        await using var graph = new PipelineGraph(options, "h", [source], publisher, NullLogger.Instance);
        graph.Start();
        var write = Task.Run(
            () =>
            {
                var random = new Random(11);
                var payload = new byte[64];
                for (int i = 0; i < total;)
                {
                    int burst = Math.Min(total - i, random.Next(100, 1500));
                    for (int n = 0; n < burst; n++, i++)
                    {
                        int size = (i * 37) % payload.Length;
                        while (!producer.HasRoom(size))
                        {
                            if (stopWriting.IsCancellationRequested)
                            {
                                return;
                            }

                            producer.Publish();
                            Thread.Sleep(1);
                        }

                        Assert.True(producer.TryWrite(KingestEventType.Inject, payload.AsSpan(0, size), (ulong)i));
                        endOf[i + 1] = producer.Position; // kseq i + 1 ends here
                    }

                    producer.Publish();
                }
            },
            TestContext.Current.CancellationToken);

        var delivered = new bool[total + 2];
        long firstMissing = 1; // the smallest kseq the broker does not have yet
        var losses = new Random(5);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        try
        {
            while (firstMissing <= total)
            {
                Assert.True(DateTime.UtcNow < deadline, $"kseq {firstMissing} of {total} never delivered");
                if (!publisher.Held.TryDequeue(out var record))
                {
                    await Task.Delay(1, TestContext.Current.CancellationToken);
                    continue;
                }

                if (losses.Next(8) == 0)
                {
                    record.Failed(DropReason.DeliveryFailed);
                }
                else
                {
                    foreach (var kseq in Kseqs(record))
                    {
                        delivered[kseq] = true;
                    }

                    record.Delivered();
                    while (firstMissing <= total && delivered[firstMissing])
                    {
                        firstMissing++;
                    }
                }

                ulong published = ring.PublishedConsumerPosition;
                Assert.True(
                    published <= endOf[firstMissing - 1],
                    $"the ring's position {published} passes kseq {firstMissing} (which starts at {endOf[firstMissing - 1]}), which the broker does not have");
            }
        }
        finally
        {
            await stopWriting.CancelAsync();
            await write;
        }

        var stats = graph.Stats[0];
        Assert.True(stats.Rewinds > 0, "no rewind");
        Assert.Equal(0, source.Counters["producer_dropped"].Value);
        Assert.True(stats.Dropped(DropReason.DeliveryFailed) > 0);
        Assert.Equal(0, stats.Dropped(DropReason.SinkQueueFull)); // the ring blocks whatever the sink edge's policy
        // The tail read again after the last loss: acknowledged, it brings the position to the end.
        await Until(
            () =>
            {
                while (publisher.Held.TryDequeue(out var rest))
                {
                    rest.Delivered();
                }

                return ring.PublishedConsumerPosition == producer.Position;
            },
            "the position to reach the producer's");
        await graph.StopAsync(TimeSpan.FromSeconds(5));
        var figures = stats.Read();
        Assert.Equal(0, figures.InFlight);
        Assert.Equal(0, figures.Unaccounted);
    }

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }

    private static List<ulong> Kseqs(OutgoingRecord record)
    {
        var kseqs = new List<ulong>(record.Count);
        foreach (var raw in RecordDecoder.Decode(record.Value).Events)
        {
            var r = new MessagePackReader(raw);
            r.ReadMapHeader();
            r.ReadString();
            r.ReadUInt64();
            r.ReadString();
            r.ReadInt64();
            r.ReadString();
            r.ReadString();
            r.ReadString();
            r.ReadMapHeader();
            Assert.Equal("kseq", r.ReadString());
            kseqs.Add(r.ReadUInt64());
        }

        return kseqs;
    }

    private static long CountPast(ulong[] endOf, long acknowledged, ulong published)
    {
        long n = 0;
        for (long i = acknowledged; i < endOf.Length && endOf[i] <= published; i++)
        {
            n++;
        }

        return n;
    }

    /// <summary>Takes every record and holds it until the test acknowledges it.</summary>
    private sealed class HeldPublisher : IRecordPublisher
    {
        public ConcurrentQueue<OutgoingRecord> Held { get; } = new();

        public int InFlight => Held.Count;

        public bool TryPublish(OutgoingRecord record)
        {
            Held.Enqueue(record);
            return true;
        }

        public ValueTask WaitForSpaceAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public bool HasOverdue => false;

        public void Abandon() => Flush(TimeSpan.Zero);

        public int Flush(TimeSpan timeout)
        {
            var n = 0;
            while (Held.TryDequeue(out var record))
            {
                record.Failed(DropReason.Shutdown);
                n++;
            }

            return n;
        }
    }
}
