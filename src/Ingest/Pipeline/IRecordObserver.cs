namespace Ingest.Pipeline;

/// <summary>
/// Told once per record the broker acknowledged, on the producer's delivery thread. Telemetry
/// (batch histograms, delivery latency, batch spans) hangs here so the pipeline stays unaware of
/// it. Implementations must be cheap and must not throw. It is told before the record shows as
/// delivered in <see cref="SourceStats"/>, so a reader that sees the count finds the record here too.
/// </summary>
public interface IRecordObserver
{
    /// <param name="record">The acknowledged record (its channel is <c>record.Stats.Channel</c>).</param>
    /// <param name="publishedTimestamp"><see cref="System.Diagnostics.Stopwatch"/> ticks of the last hand-over to the producer.</param>
    void OnDelivered(OutgoingRecord record, long publishedTimestamp);
}
