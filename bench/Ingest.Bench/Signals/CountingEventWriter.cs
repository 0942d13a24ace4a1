using System.Diagnostics;
using Ingest.Transports.Events;

namespace Ingest.Bench.Signals;

/// <summary>
/// The cheapest possible pipeline edge: counts events and remembers when the last one ended, so a
/// benchmark measures the source, not an encoder. Readers use <see cref="Count"/> from other threads.
/// </summary>
internal sealed class CountingEventWriter : EventWriter
{
    private long _count;
    private long _lastEndTimestamp;

    /// <summary>Called with the Stopwatch timestamp of each finished event (on the source's thread).</summary>
    public Action<long>? OnEvent { get; init; }

    public long Count => Volatile.Read(ref _count);

    public long LastEndTimestamp => Volatile.Read(ref _lastEndTimestamp);

    public override ulong NextSequence => (ulong)_count;

    public override void BeginEvent(EventName type, long timestampNs, int dataFieldCount)
    {
    }

    public override void EndEvent()
    {
        var now = Stopwatch.GetTimestamp();
        Volatile.Write(ref _lastEndTimestamp, now);
        Interlocked.Increment(ref _count);
        OnEvent?.Invoke(now);
    }

    public override void CancelEvent()
    {
    }

    public override void WriteKey(EventName key)
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

    public override void Write(EventName value)
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
    }

    public override void Flush(long checkpoint = -1)
    {
    }

    public override ValueTask FlushAsync(long checkpoint = -1, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
}
