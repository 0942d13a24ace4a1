using Ingest.Transports.Events;
using Ingest.Transports.Tests.Fakes;

namespace Ingest.Transports.Tests.Ring;

/// <summary>
/// A <see cref="RecordingEventWriter"/> that also keeps the checkpoints thread-safely and, when
/// <see cref="AcknowledgeOnFlush"/> is set, acknowledges each one at once (a broker that never
/// fails), the way the pipeline calls <see cref="IAcknowledgingSource.OnDelivered"/>.
/// </summary>
internal sealed class CheckpointingWriter : EventWriter
{
    private readonly RecordingEventWriter _inner = new();
    private readonly List<long> _checkpoints = [];

    public IAcknowledgingSource? AcknowledgeOnFlush { get; set; }

    public RecordingEventWriter Recorded => _inner;

    public override ulong NextSequence => _inner.NextSequence;

    public long[] Checkpoints()
    {
        lock (_checkpoints)
        {
            return [.. _checkpoints];
        }
    }

    public async Task<long> WaitForCheckpointAsync(long atLeast)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            var all = Checkpoints();
            if (all.Length > 0 && all[^1] >= atLeast)
            {
                return all[^1];
            }

            await Task.Delay(10);
        }

        throw new TimeoutException($"no checkpoint >= {atLeast}; got [{string.Join(", ", Checkpoints())}]");
    }

    public override void Flush(long checkpoint = -1)
    {
        _inner.Flush(checkpoint);
        if (checkpoint >= 0)
        {
            lock (_checkpoints)
            {
                _checkpoints.Add(checkpoint);
            }

            AcknowledgeOnFlush?.OnDelivered(checkpoint);
        }
    }

    public override ValueTask FlushAsync(long checkpoint = -1, CancellationToken cancellationToken = default)
    {
        Flush(checkpoint);
        return ValueTask.CompletedTask;
    }

    public override void BeginEvent(EventName type, long timestampNs, int dataFieldCount) => _inner.BeginEvent(type, timestampNs, dataFieldCount);

    public override void EndEvent() => _inner.EndEvent();

    public override void CancelEvent() => _inner.CancelEvent();

    public override void WriteKey(EventName key) => _inner.WriteKey(key);

    public override void WriteMapHeader(int count) => _inner.WriteMapHeader(count);

    public override void WriteArrayHeader(int count) => _inner.WriteArrayHeader(count);

    public override void WriteNil() => _inner.WriteNil();

    public override void Write(bool value) => _inner.Write(value);

    public override void Write(long value) => _inner.Write(value);

    public override void Write(ulong value) => _inner.Write(value);

    public override void Write(double value) => _inner.Write(value);

    public override void Write(EventName value) => _inner.Write(value);

    public override void WriteString(ReadOnlySpan<char> value) => _inner.WriteString(value);

    public override void WriteString(ReadOnlySpan<byte> utf8) => _inner.WriteString(utf8);

    public override void WriteBinary(ReadOnlySpan<byte> value) => _inner.WriteBinary(value);
}
