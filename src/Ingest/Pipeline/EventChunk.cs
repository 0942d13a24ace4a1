using System.Buffers;
using System.Collections.Concurrent;

namespace Ingest.Pipeline;

/// <summary>
/// A run of MessagePack-encoded events from one source, in a pooled buffer. Chunks, not events,
/// travel through the source edge, so channel operations are paid once per burst.
/// </summary>
internal sealed class EventChunk
{
    private static readonly ConcurrentQueue<EventChunk> Pool = new();

    private EventChunk()
    {
        Buffer = [];
    }

    public byte[] Buffer { get; private set; }

    public int Length { get; set; }

    public int Count { get; set; }

    /// <summary>Position the source asked to hear back about once this chunk is delivered; -1: none.</summary>
    public long Checkpoint { get; set; } = -1;

    /// <summary>The acknowledging source's rewind generation when the chunk was flushed (0 for other sources).</summary>
    public int Generation { get; set; }

    public ReadOnlySpan<byte> Span => Buffer.AsSpan(0, Length);

    public static EventChunk Rent(int size)
    {
        if (!Pool.TryDequeue(out var chunk))
        {
            chunk = new EventChunk();
        }

        chunk.Buffer = ArrayPool<byte>.Shared.Rent(size);
        return chunk;
    }

    /// <summary>Replaces the buffer with one of at least <paramref name="size"/> bytes, keeping the content.</summary>
    public void Grow(int size)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(size);
        Buffer.AsSpan(0, Length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(Buffer);
        Buffer = bigger;
    }

    public void Return()
    {
        ArrayPool<byte>.Shared.Return(Buffer);
        Buffer = [];
        Length = 0;
        Count = 0;
        Checkpoint = -1;
        Generation = 0;
        Pool.Enqueue(this);
    }
}
