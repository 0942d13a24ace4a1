using System.Buffers;

namespace Ingest.Encoding.MessagePack;

/// <summary>
/// A growable <see cref="IBufferWriter{T}"/> over arrays rented from <see cref="ArrayPool{T}.Shared"/>:
/// the buffer MessagePack-CSharp's <c>MessagePackWriter</c> writes into on the paths that are not
/// per-event (commands, results, tests). The BCL's <see cref="ArrayBufferWriter{T}"/> allocates
/// each buffer; this one returns them. Not thread-safe; spans from <see cref="WrittenSpan"/> are
/// invalid after <see cref="Dispose"/>.
/// </summary>
public sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _written;

    public PooledBufferWriter(int initialCapacity = 256)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(initialCapacity);
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 16));
    }

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

    public int WrittenCount => _written;

    public byte[] ToArray() => WrittenSpan.ToArray();

    /// <summary>Forgets what was written, keeping the buffer.</summary>
    public void Reset() => _written = 0;

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - _written);
        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public void Dispose()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        _written = 0;
        if (buffer.Length != 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Reserve(int sizeHint)
    {
        ObjectDisposedException.ThrowIf(_buffer.Length == 0, this);
        int size = Math.Max(sizeHint, 1);
        if (_buffer.Length - _written >= size)
        {
            return;
        }

        long needed = (long)_written + size;
        if (needed > Array.MaxLength)
        {
            throw new InvalidOperationException($"A MessagePack document cannot exceed {Array.MaxLength} bytes.");
        }

        byte[] bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max(needed, (long)_buffer.Length * 2), Array.MaxLength));
        _buffer.AsSpan(0, _written).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}
