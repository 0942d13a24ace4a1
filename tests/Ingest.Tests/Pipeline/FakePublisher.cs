using System.Collections.Concurrent;
using Ingest.Pipeline;

namespace Ingest.Tests.Pipeline;

/// <summary>
/// Unit-level stand-in for the Kafka publisher: holds records, acknowledges them when told,
/// and can refuse work to simulate a full producer queue.
/// </summary>
internal sealed class FakePublisher : IRecordPublisher
{
    private readonly ConcurrentQueue<OutgoingRecord> _unacked = new();

    public List<OutgoingRecord> Published { get; } = [];

    /// <summary>Acknowledge each record as soon as it is published.</summary>
    public bool AutoAck { get; set; } = true;

    /// <summary>While true, TryPublish refuses (a full librdkafka queue).</summary>
    public volatile bool Full;

    /// <summary>The next TryPublish throws, as the producer does for a record it can never send.</summary>
    public volatile bool RefuseNext;

    public int InFlight => _unacked.Count;

    public bool TryPublish(OutgoingRecord record)
    {
        if (Full)
        {
            return false;
        }

        if (RefuseNext)
        {
            RefuseNext = false;
            throw new InvalidOperationException("Message size too large");
        }

        lock (Published)
        {
            Published.Add(record);
        }

        if (AutoAck)
        {
            record.Delivered();
        }
        else
        {
            _unacked.Enqueue(record);
        }

        return true;
    }

    public async ValueTask WaitForSpaceAsync(CancellationToken cancellationToken) => await Task.Delay(5, cancellationToken);

    public bool HasOverdue => false;

    /// <summary>Fails every unacknowledged record as a retriable failure, as a purge does.</summary>
    public void Abandon()
    {
        while (_unacked.TryDequeue(out var r))
        {
            if (!r.TryRetry())
            {
                r.Failed(DropReason.DeliveryFailed);
            }
        }
    }

    public int Flush(TimeSpan timeout)
    {
        var n = 0;
        while (_unacked.TryDequeue(out var r))
        {
            r.Failed(DropReason.Shutdown);
            n++;
        }

        return n;
    }

    public void AckAll()
    {
        while (_unacked.TryDequeue(out var r))
        {
            r.Delivered();
        }
    }

    public List<OutgoingRecord> Snapshot()
    {
        lock (Published)
        {
            return [.. Published];
        }
    }
}
