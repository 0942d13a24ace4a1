using System.Runtime.InteropServices;
using Ingest.Transports.Events;

namespace Ingest.Bench.Udp;

/// <summary>
/// The cheapest honest sink for a source benchmark: it reads every byte it is given (an XOR fold kept in
/// a field, so the reads cannot be elided) and counts events, without buffering or encoding anything.
/// Written on the source's thread; <see cref="Events"/> may be read from another.
/// </summary>
internal sealed class TouchingEventWriter : EventWriter
{
    private ulong _seq;
    private long _events;
    private long _bytes;
    private ulong _fold;

    public long Events => Volatile.Read(ref _events);

    public long Bytes => Volatile.Read(ref _bytes);

    public override ulong NextSequence => _seq;

    public override void BeginEvent(EventName type, long timestampNs, int dataFieldCount)
    {
        _seq++;
        _fold ^= (ulong)timestampNs;
    }

    public override void EndEvent() => Volatile.Write(ref _events, _events + 1);

    public override void CancelEvent()
    {
    }

    public override void WriteKey(EventName key) => Touch(key.Utf8);

    public override void WriteMapHeader(int count) => _fold ^= (uint)count;

    public override void WriteArrayHeader(int count) => _fold ^= (uint)count;

    public override void WriteNil()
    {
    }

    public override void Write(bool value) => _fold ^= value ? 1UL : 0UL;

    public override void Write(long value) => _fold ^= (ulong)value;

    public override void Write(ulong value) => _fold ^= value;

    public override void Write(double value) => _fold ^= BitConverter.DoubleToUInt64Bits(value);

    public override void Write(EventName value) => Touch(value.Utf8);

    public override void WriteString(ReadOnlySpan<char> value) => Touch(MemoryMarshal.AsBytes(value));

    public override void WriteString(ReadOnlySpan<byte> utf8) => Touch(utf8);

    public override void WriteBinary(ReadOnlySpan<byte> value) => Touch(value);

    public override void Flush(long checkpoint = -1)
    {
    }

    public override ValueTask FlushAsync(long checkpoint = -1, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    private void Touch(ReadOnlySpan<byte> bytes)
    {
        var fold = _fold;
        var words = MemoryMarshal.Cast<byte, ulong>(bytes);
        foreach (var word in words)
        {
            fold ^= word;
        }

        foreach (var b in bytes[(words.Length * sizeof(ulong))..])
        {
            fold = (fold << 1) ^ b;
        }

        _fold = fold;
        Volatile.Write(ref _bytes, _bytes + bytes.Length);
    }
}
