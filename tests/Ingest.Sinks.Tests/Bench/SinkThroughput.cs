using System.Diagnostics;
using Ingest.Sinks.Broker;
using Ingest.Sinks.Kafka;

namespace Ingest.Sinks.Tests.Bench;

/// <summary>
/// Produce throughput of <see cref="KafkaRecordSink"/> (default settings) into an
/// <see cref="EmbeddedBroker"/>: the caller loop is TryProduce / WaitForSpaceAsync, completion is
/// the last delivery report. Self-contained so bench/ can host it unchanged.
/// </summary>
public static class SinkThroughput
{
    public readonly record struct Result(int Records, int ValueBytes, TimeSpan Elapsed, long QueueFull, long Failed)
    {
        public double RecordsPerSecond => Records / Elapsed.TotalSeconds;

        public double MegabytesPerSecond => (double)Records * ValueBytes / (1024 * 1024) / Elapsed.TotalSeconds;

        public override string ToString() =>
            $"{Records} x {ValueBytes} B in {Elapsed.TotalSeconds:F2} s: {RecordsPerSecond:F0} records/s, " +
            $"{MegabytesPerSecond:F1} MiB/s (queue_full {QueueFull}, failed {Failed})";
    }

    /// <param name="compressible">Value bytes repeat a short pattern (lz4 shrinks them) instead of random.</param>
    public static async Task<Result> RunAsync(int records, int valueBytes, bool compressible, int partitions = 4)
    {
        using EmbeddedBroker broker = EmbeddedBroker.Start();
        string topic = $"bench-{Guid.NewGuid():N}";
        broker.CreateTopic(topic, partitions);

        var value = new byte[valueBytes];
        if (compressible)
        {
            for (int i = 0; i < value.Length; i++)
            {
                value[i] = (byte)(i % 61);
            }
        }
        else
        {
            new Random(42).NextBytes(value);
        }

        var keys = new byte[partitions * 8][];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = BitConverter.GetBytes(i);
        }

        var handler = new CountingHandler();
        using var sink = new KafkaRecordSink(new KafkaProducerOptions { BootstrapServers = broker.BootstrapServers });

        // Warm-up: connection, producer id, metadata.
        while (!sink.TryProduce(topic, keys[0], value, [], handler, null))
        {
            await sink.WaitForSpaceAsync(CancellationToken.None).ConfigureAwait(false);
        }

        sink.Flush(TimeSpan.FromSeconds(30));

        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < records; i++)
        {
            while (!sink.TryProduce(topic, keys[i % keys.Length], value, [], handler, null))
            {
                await sink.WaitForSpaceAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }

        int left = sink.Flush(TimeSpan.FromMinutes(2));
        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        if (left != 0)
        {
            throw new InvalidOperationException($"{left} records still in flight after flush");
        }

        return new Result(records, valueBytes, elapsed, sink.Counters.QueueFull, sink.Counters.Failed);
    }

    private sealed class CountingHandler : IDeliveryHandler
    {
        private long _delivered;

        public long Delivered => Volatile.Read(ref _delivered);

        public void OnDelivery(object? state, DeliveryOutcome outcome) => Interlocked.Increment(ref _delivered);
    }
}
