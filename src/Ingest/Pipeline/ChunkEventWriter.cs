using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Ingest.Encoding.MessagePack;
using Ingest.Transports.Events;

namespace Ingest.Pipeline;

/// <summary>
/// The pipeline's <see cref="EventWriter"/>: encodes each event straight into the current
/// <see cref="EventChunk"/> as a MessagePack map <c>{"seq","ts","type","data"}</c> and hands full
/// chunks to the source edge, applying the edge's when-full policy there.
/// </summary>
internal sealed class ChunkEventWriter : EventWriter
{
    // Pre-encoded keys: fixmap(4), then fixstr keys.
    private static ReadOnlySpan<byte> EventHeader => [0x84, 0xa3, (byte)'s', (byte)'e', (byte)'q'];

    private static ReadOnlySpan<byte> TsKey => [0xa2, (byte)'t', (byte)'s'];

    private static ReadOnlySpan<byte> TypeKey => [0xa4, (byte)'t', (byte)'y', (byte)'p', (byte)'e'];

    private static ReadOnlySpan<byte> DataKey => [0xa4, (byte)'d', (byte)'a', (byte)'t', (byte)'a'];

    private readonly ChannelWriter<EventChunk> _edge;
    private readonly WhenFull _whenFull;
    private readonly SourceStats _stats;
    private readonly int _chunkBytes;
    private readonly CancellationToken _abort;
    private readonly IAcknowledgingSource? _acknowledger;
    private EventChunk _chunk;
    private ulong _seq;
    private int _eventStart = -1;

    public ChunkEventWriter(ChannelWriter<EventChunk> edge, WhenFull whenFull, SourceStats stats, int chunkBytes, CancellationToken abort, IAcknowledgingSource? acknowledger = null)
    {
        _acknowledger = acknowledger;
        _edge = edge;
        _whenFull = whenFull;
        _stats = stats;
        _chunkBytes = chunkBytes;
        _abort = abort;
        _chunk = EventChunk.Rent(chunkBytes);
    }

    public override ulong NextSequence => _seq;

    public override void BeginEvent(EventName type, long timestampNs, int dataFieldCount)
    {
        if (_eventStart >= 0)
        {
            throw new InvalidOperationException("BeginEvent while an event is open");
        }

        var typeBytes = type.Utf8;
        var span = Reserve(5 + 9 + 3 + 9 + 5 + 5 + typeBytes.Length + 5 + 5);
        _eventStart = _chunk.Length;
        var n = 0;
        EventHeader.CopyTo(span);
        n += EventHeader.Length;
        n += MessagePackPrimitives.WriteUInt64(span[n..], _seq++);
        TsKey.CopyTo(span[n..]);
        n += TsKey.Length;
        n += MessagePackPrimitives.WriteInt64(span[n..], timestampNs);
        TypeKey.CopyTo(span[n..]);
        n += TypeKey.Length;
        n += MessagePackPrimitives.WriteStringHeader(span[n..], typeBytes.Length);
        typeBytes.CopyTo(span[n..]);
        n += typeBytes.Length;
        DataKey.CopyTo(span[n..]);
        n += DataKey.Length;
        n += MessagePackPrimitives.WriteMapHeader(span[n..], dataFieldCount);
        _chunk.Length += n;
    }

    public override void EndEvent()
    {
        if (_eventStart < 0)
        {
            throw new InvalidOperationException("EndEvent without BeginEvent");
        }

        _eventStart = -1;
        _chunk.Count++;
        if (_chunk.Length >= _chunkBytes)
        {
            Flush();
        }
    }

    public override void CancelEvent()
    {
        if (_eventStart >= 0)
        {
            _chunk.Length = _eventStart;
            _eventStart = -1;
        }
    }

    public override void WriteKey(EventName key) => WriteUtf8(key.Utf8);

    public override void WriteMapHeader(int count)
    {
        var span = Reserve(MessagePackPrimitives.MaxHeaderLength);
        _chunk.Length += MessagePackPrimitives.WriteMapHeader(span, count);
    }

    public override void WriteArrayHeader(int count)
    {
        var span = Reserve(MessagePackPrimitives.MaxHeaderLength);
        _chunk.Length += MessagePackPrimitives.WriteArrayHeader(span, count);
    }

    public override void WriteNil()
    {
        var span = Reserve(1);
        _chunk.Length += MessagePackPrimitives.WriteNil(span);
    }

    public override void Write(bool value)
    {
        var span = Reserve(1);
        _chunk.Length += MessagePackPrimitives.WriteBoolean(span, value);
    }

    public override void Write(long value)
    {
        var span = Reserve(9);
        _chunk.Length += MessagePackPrimitives.WriteInt64(span, value);
    }

    public override void Write(ulong value)
    {
        var span = Reserve(9);
        _chunk.Length += MessagePackPrimitives.WriteUInt64(span, value);
    }

    public override void Write(double value)
    {
        var span = Reserve(9);
        _chunk.Length += MessagePackPrimitives.WriteDouble(span, value);
    }

    public override void Write(EventName value) => WriteUtf8(value.Utf8);

    public override void WriteString(ReadOnlySpan<char> value)
    {
        var max = System.Text.Encoding.UTF8.GetMaxByteCount(value.Length);
        var span = Reserve(5 + max);
        var written = System.Text.Encoding.UTF8.GetBytes(value, span[5..]);
        var header = MessagePackPrimitives.WriteStringHeader(span, written);
        if (header != 5)
        {
            span.Slice(5, written).CopyTo(span[header..]);
        }

        _chunk.Length += header + written;
    }

    public override void WriteString(ReadOnlySpan<byte> utf8) => WriteUtf8(utf8);

    public override void WriteBinary(ReadOnlySpan<byte> value)
    {
        var span = Reserve(5 + value.Length);
        var n = MessagePackPrimitives.WriteBinaryHeader(span, value.Length);
        value.CopyTo(span[n..]);
        _chunk.Length += n + value.Length;
    }

    public override void Flush(long checkpoint = -1)
    {
        // One flush path: FlushAsync completes synchronously (no allocation) unless the edge is
        // full and the policy is to wait; then only this source's thread blocks.
        var flush = FlushAsync(checkpoint);
        if (!flush.IsCompletedSuccessfully)
        {
            flush.AsTask().GetAwaiter().GetResult();
        }
    }

    public override ValueTask FlushAsync(long checkpoint = -1, CancellationToken cancellationToken = default)
    {
        if (!PrepareFlush(checkpoint, out var chunk))
        {
            return ValueTask.CompletedTask;
        }

        return HandOverAsync(chunk, cancellationToken);
    }

    private async ValueTask HandOverAsync(EventChunk chunk, CancellationToken cancellationToken)
    {
        if (_edge.TryWrite(chunk))
        {
            return;
        }

        if (_whenFull == WhenFull.DropNewest)
        {
            Drop(chunk, DropReason.QueueFull);
            return;
        }

        using var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(_abort, cancellationToken) : null;
        try
        {
            await _edge.WriteAsync(chunk, linked?.Token ?? _abort).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            Drop(chunk, DropReason.Shutdown);
        }
    }

    /// <summary>
    /// Returns the pending chunk once the source is done. Events written but never flushed (a
    /// source that ended without its final flush) were never handed over: they are counted as
    /// received and dropped (shutdown) at once, so their sequence numbers' gap is explained.
    /// </summary>
    public void Release()
    {
        if (_chunk.Count > 0)
        {
            _stats.AddReceivedAndDropped(DropReason.Shutdown, _chunk.Count);
            _stats.Acknowledgements?.Lost(_acknowledger?.Generation ?? 0);
        }

        _chunk.Return();
        _chunk = EventChunk.Rent(_chunkBytes);
    }

    private bool PrepareFlush(long checkpoint, out EventChunk chunk)
    {
        if (_eventStart >= 0)
        {
            throw new InvalidOperationException("Flush while an event is open");
        }

        chunk = _chunk;
        if (chunk.Count == 0 && checkpoint < 0)
        {
            return false;
        }

        chunk.Checkpoint = checkpoint;
        chunk.Generation = _acknowledger?.Generation ?? 0;
        _stats.AddReceived(chunk.Count);
        _chunk = EventChunk.Rent(_chunkBytes);
        return true;
    }

    /// <summary>
    /// The current chunk has no room for <paramref name="bytes"/> more. When it holds complete
    /// events, they are handed over and the open event (if any) moves to a fresh chunk: a chunk
    /// stays at its rented size instead of growing, which would copy it whole and double its buffer
    /// once per chunk. Only an event larger than a chunk grows one.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void MakeRoom(int bytes)
    {
        var full = _chunk;
        var complete = _eventStart >= 0 ? _eventStart : full.Length;
        if (full.Count > 0 && complete > 0)
        {
            var next = EventChunk.Rent(_chunkBytes);
            var open = full.Length - complete;
            if (next.Buffer.Length < open)
            {
                next.Grow(open);
            }

            full.Buffer.AsSpan(complete, open).CopyTo(next.Buffer);
            next.Length = open;
            full.Length = complete;
            full.Checkpoint = -1;
            full.Generation = _acknowledger?.Generation ?? 0;
            _stats.AddReceived(full.Count);
            _chunk = next;
            if (_eventStart >= 0)
            {
                _eventStart = 0;
            }

            // As an EndEvent flush: a full edge blocks this (the source's) thread or drops, by policy.
            var handOver = HandOverAsync(full, CancellationToken.None);
            if (!handOver.IsCompletedSuccessfully)
            {
                handOver.AsTask().GetAwaiter().GetResult();
            }
        }

        var chunk = _chunk;
        if (chunk.Buffer.Length - chunk.Length < bytes)
        {
            chunk.Grow(Math.Max(chunk.Buffer.Length * 2, chunk.Length + bytes));
        }
    }

    private void Drop(EventChunk chunk, DropReason reason)
    {
        _stats.AddDropped(reason, chunk.Count);
        if (chunk.Count > 0)
        {
            // A lost checkpoint alone loses nothing; lost events send an acknowledging source back.
            _stats.Acknowledgements?.Lost(chunk.Generation);
        }

        chunk.Return();
    }

    private void WriteUtf8(ReadOnlySpan<byte> utf8)
    {
        var span = Reserve(5 + utf8.Length);
        var n = MessagePackPrimitives.WriteStringHeader(span, utf8.Length);
        utf8.CopyTo(span[n..]);
        _chunk.Length += n + utf8.Length;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> Reserve(int bytes)
    {
        if (_chunk.Buffer.Length - _chunk.Length < bytes)
        {
            MakeRoom(bytes);
        }

        var chunk = _chunk;
        return chunk.Buffer.AsSpan(chunk.Length);
    }
}
