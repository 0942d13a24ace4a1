using Ingest.Transports.Events;
using Ingest.Transports.Tests.Fakes;

namespace Ingest.Transports.Tests.Netlink;

/// <summary>A recording writer whose Flush can be held, to keep a source from reading (a full pipeline).</summary>
internal sealed class BlockingWriter : EventWriter
{
    private readonly ManualResetEventSlim _open = new(true);
    private readonly TaskCompletionSource _blocked = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public RecordingEventWriter Inner { get; } = new();

    /// <summary>Completes when a Flush is waiting on <see cref="Release"/>.</summary>
    public Task Blocked => _blocked.Task;

    public override ulong NextSequence => Inner.NextSequence;

    public void Block() => _open.Reset();

    public void Release() => _open.Set();

    public override void Flush(long checkpoint = -1)
    {
        if (!_open.IsSet)
        {
            _blocked.TrySetResult();
            _open.Wait(TimeSpan.FromSeconds(30));
        }

        Inner.Flush(checkpoint);
    }

    public override ValueTask FlushAsync(long checkpoint = -1, CancellationToken cancellationToken = default)
    {
        Flush(checkpoint);
        return ValueTask.CompletedTask;
    }

    public override void BeginEvent(EventName type, long timestampNs, int dataFieldCount) => Inner.BeginEvent(type, timestampNs, dataFieldCount);

    public override void EndEvent() => Inner.EndEvent();

    public override void CancelEvent() => Inner.CancelEvent();

    public override void WriteKey(EventName key) => Inner.WriteKey(key);

    public override void WriteMapHeader(int count) => Inner.WriteMapHeader(count);

    public override void WriteArrayHeader(int count) => Inner.WriteArrayHeader(count);

    public override void WriteNil() => Inner.WriteNil();

    public override void Write(bool value) => Inner.Write(value);

    public override void Write(long value) => Inner.Write(value);

    public override void Write(ulong value) => Inner.Write(value);

    public override void Write(double value) => Inner.Write(value);

    public override void Write(EventName value) => Inner.Write(value);

    public override void WriteString(ReadOnlySpan<char> value) => Inner.WriteString(value);

    public override void WriteString(ReadOnlySpan<byte> utf8) => Inner.WriteString(utf8);

    public override void WriteBinary(ReadOnlySpan<byte> value) => Inner.WriteBinary(value);
}
