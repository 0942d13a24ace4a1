using System.Diagnostics;
using Ingest.Transports.Events;

namespace Ingest.Bench.Netlink;

/// <summary>
/// An EventWriter that only counts events and notes when the last one ended: the source's cost
/// alone. <see cref="Hold"/> makes the next Flush wait for <see cref="Release"/>, which keeps the
/// source from reading while a burst piles up in its socket (a stalled pipeline).
/// </summary>
internal sealed class CountingEventWriter : EventWriter
{
    private readonly ManualResetEventSlim _open = new(true);
    private readonly SemaphoreSlim _held = new(0);
    private long _count;
    private long _lastTimestamp;

    public void Hold() => _open.Reset();

    /// <summary>Waits until a Flush is parked by <see cref="Hold"/>.</summary>
    public Task WaitHeldAsync(CancellationToken cancellationToken) => _held.WaitAsync(cancellationToken);

    public void Release() => _open.Set();

    public long Count => Volatile.Read(ref _count);

    /// <summary><see cref="Stopwatch.GetTimestamp"/> at the last <see cref="EndEvent"/>.</summary>
    public long LastTimestamp => Volatile.Read(ref _lastTimestamp);

    public override ulong NextSequence => (ulong)Count;

    public override void BeginEvent(EventName type, long timestampNs, int dataFieldCount)
    {
    }

    public override void EndEvent()
    {
        Volatile.Write(ref _lastTimestamp, Stopwatch.GetTimestamp());
        Volatile.Write(ref _count, _count + 1);
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
        if (!_open.IsSet)
        {
            _held.Release();
            _open.Wait();
        }
    }

    public override ValueTask FlushAsync(long checkpoint = -1, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
}
