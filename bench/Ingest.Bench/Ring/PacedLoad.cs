using System.Diagnostics;
using Ingest.Transports.Kingest;
using Ingest.Transports.Ring;

namespace Ingest.Bench.Ring;

/// <summary>
/// Writes 64-byte records into a ring at a fixed rate for a while: each pass writes the records
/// that are due, publishes them (as the module publishes each record at once) and notes the
/// publication time of the batch's end position for every batch holding a multiple of
/// <c>sampleEvery</c>. Waits, never drops, when the ring is full.
/// </summary>
internal sealed class PacedLoad(RingProducer producer, int eventsPerSecond, TimeSpan duration, int sampleEvery)
{
    public LoadResult Run()
    {
        Span<byte> payload = stackalloc byte[RingLoad.PayloadBytes];
        payload.Fill(0x5a);
        long total = (long)(eventsPerSecond * duration.TotalSeconds);
        var samples = new List<(ulong EndPosition, long Timestamp)>((int)Math.Min(total / sampleEvery + 16, 1 << 20));
        var watch = Stopwatch.StartNew();
        long written = 0;
        while (written < total)
        {
            long due = Math.Min(total, (long)(watch.Elapsed.TotalSeconds * eventsPerSecond) + 1);
            if (due <= written)
            {
                double nextMs = (written / (double)eventsPerSecond * 1000) - watch.Elapsed.TotalMilliseconds;
                Thread.Sleep(Math.Max(1, (int)nextMs));
                continue;
            }

            bool sample = false;
            ulong ts = (ulong)(DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
            for (; written < due; written++)
            {
                while (!producer.HasRoom(payload.Length))
                {
                    producer.Publish();
                    Thread.Sleep(1);
                }

                producer.TryWrite(KingestEventType.Inject, payload, ts);
                sample |= (written + 1) % sampleEvery == 0;
            }

            producer.Publish();
            if (sample)
            {
                samples.Add((producer.Position, Stopwatch.GetTimestamp()));
            }
        }

        return new LoadResult(samples, producer.Position, written / watch.Elapsed.TotalSeconds);
    }
}

/// <summary>What a <see cref="PacedLoad"/> produced: latency samples, the final ring position, the rate achieved.</summary>
internal sealed record LoadResult(IReadOnlyList<(ulong EndPosition, long Timestamp)> Samples, ulong EndPosition, double Rate);
