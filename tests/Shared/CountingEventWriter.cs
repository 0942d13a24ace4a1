using System.Diagnostics;
using Ingest.Transports.Events;

namespace Ingest.Testing;

/// <summary>
/// The cheapest possible pipeline edge, shared by allocation tests and benchmarks (linked into both
/// projects): it keeps nothing and allocates nothing, counts events, sums the bytes it is given (so
/// every byte is touched) and notes when the last event ended, so a measurement sees the source and
/// not an encoder. <see cref="Hold"/> parks the next Flush until <see cref="Release"/>, which keeps a
/// source from reading while a burst piles up in its socket (a stalled pipeline).
/// </summary>
public sealed class CountingEventWriter : EventWriter
{
    private readonly ManualResetEventSlim _open = new(true);
    private readonly SemaphoreSlim _held = new(0);
    private long _count;
    private long _lastEndTimestamp;

    /// <summary>Called with the Stopwatch timestamp of each finished event, on the source's thread.</summary>
    public Action<long>? OnEvent { get; init; }

    /// <summary>Events ended so far; safe to read from other threads.</summary>
    public long Count => Volatile.Read(ref _count);

    /// <summary><see cref="Stopwatch.GetTimestamp"/> at the last <see cref="EndEvent"/>.</summary>
    public long LastEndTimestamp => Volatile.Read(ref _lastEndTimestamp);

    /// <summary>Bytes of binary values (payloads).</summary>
    public long BinaryBytes { get; private set; }

    /// <summary>Bytes of string values, UTF-8 or chars.</summary>
    public long TextBytes { get; private set; }

    public long Flushes { get; private set; }

    public override ulong NextSequence => (ulong)Count;

    public void Hold() => _open.Reset();

    /// <summary>Completes once a Flush is parked by <see cref="Hold"/>.</summary>
    public Task WaitHeldAsync(CancellationToken cancellationToken) => _held.WaitAsync(cancellationToken);

    public void Release() => _open.Set();

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

    public override void Write(EventName value) => TextBytes += value.Utf8.Length;

    public override void WriteString(ReadOnlySpan<char> value) => TextBytes += value.Length;

    public override void WriteString(ReadOnlySpan<byte> utf8) => TextBytes += utf8.Length;

    public override void WriteBinary(ReadOnlySpan<byte> value) => BinaryBytes += value.Length;

    public override void Flush(long checkpoint = -1)
    {
        Flushes++;
        if (!_open.IsSet)
        {
            _held.Release();
            _open.Wait();
        }
    }

    public override ValueTask FlushAsync(long checkpoint = -1, CancellationToken cancellationToken = default)
    {
        Flush(checkpoint);
        return ValueTask.CompletedTask;
    }
}
