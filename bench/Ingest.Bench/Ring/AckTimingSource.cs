using System.Diagnostics;
using Ingest.Transports.Events;
using Ingest.Transports.Ring;

namespace Ingest.Bench.Ring;

/// <summary>
/// A <see cref="RingSource"/> as the daemon sees it, noting when each acknowledgement (a ring
/// position the broker has everything before) reaches the source: the end of "event to Kafka ack".
/// </summary>
internal sealed class AckTimingSource(RingSource inner) : IAcknowledgingSource
{
    private readonly List<(ulong Position, long Timestamp)> _acks = new(1 << 16);

    public string Channel => inner.Channel;

    public string Name => inner.Name;

    public CounterSet Counters => inner.Counters;

    public Task RunAsync(EventWriter writer, CancellationToken cancellationToken) => inner.RunAsync(writer, cancellationToken);

    public void OnDelivered(long checkpoint)
    {
        long now = Stopwatch.GetTimestamp();
        lock (_acks)
        {
            _acks.Add(((ulong)checkpoint, now));
        }

        inner.OnDelivered(checkpoint);
    }

    public void Rewind() => inner.Rewind();

    public int Generation => inner.Generation;

    /// <summary>Waits until everything before <paramref name="position"/> is acknowledged.</summary>
    public async Task WaitForAsync(ulong position, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        while (LastAcknowledged() < position)
        {
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"ring position {position} not acknowledged after {timeout.TotalSeconds} s (at {LastAcknowledged()})");
            }

            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Milliseconds from each sample's publication to the first acknowledgement covering it.</summary>
    public List<double> Latencies(IReadOnlyList<(ulong EndPosition, long Timestamp)> samples)
    {
        (ulong Position, long Timestamp)[] acks;
        lock (_acks)
        {
            acks = [.. _acks];
        }

        var result = new List<double>(samples.Count);
        foreach (var (end, published) in samples)
        {
            int lo = 0, hi = acks.Length;
            while (lo < hi)
            {
                int mid = (lo + hi) / 2;
                if (acks[mid].Position >= end)
                {
                    hi = mid;
                }
                else
                {
                    lo = mid + 1;
                }
            }

            if (lo < acks.Length)
            {
                result.Add(Stopwatch.GetElapsedTime(published, acks[lo].Timestamp).TotalMilliseconds);
            }
        }

        return result;
    }

    private ulong LastAcknowledged()
    {
        lock (_acks)
        {
            return _acks.Count == 0 ? 0 : _acks[^1].Position;
        }
    }
}
