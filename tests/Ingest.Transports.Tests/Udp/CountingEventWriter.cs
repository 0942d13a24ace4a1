using Ingest.Transports.Events;

namespace Ingest.Transports.Tests.Udp;

/// <summary>
/// A writer that keeps nothing and allocates nothing: it counts events and sums the bytes it is
/// given, so allocation checks see only what the source allocates.
/// </summary>
public sealed class CountingEventWriter : EventWriter
{
    private ulong _seq;

    public long Events { get; private set; }

    /// <summary>Bytes of binary values (payloads).</summary>
    public long BinaryBytes { get; private set; }

    /// <summary>Bytes of UTF-8 string values.</summary>
    public long TextBytes { get; private set; }

    public long Flushes { get; private set; }

    public override ulong NextSequence => _seq;

    public override void BeginEvent(EventName type, long timestampNs, int dataFieldCount) => _seq++;

    public override void EndEvent() => Events++;

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

    public override void WriteString(ReadOnlySpan<byte> utf8) => TextBytes += utf8.Length;

    public override void WriteBinary(ReadOnlySpan<byte> value) => BinaryBytes += value.Length;

    public override void Flush(long checkpoint = -1) => Flushes++;

    public override ValueTask FlushAsync(long checkpoint = -1, CancellationToken cancellationToken = default)
    {
        Flush(checkpoint);
        return ValueTask.CompletedTask;
    }
}
