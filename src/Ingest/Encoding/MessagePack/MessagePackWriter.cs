using System.Buffers;
using System.Runtime.CompilerServices;

namespace Ingest.Encoding.MessagePack;

/// <summary>
/// Writes MessagePack into a growable buffer rented from <see cref="ArrayPool{T}.Shared"/>, for the
/// paths that are not per-event (commands, results, tests). The hot path writes through
/// <see cref="MessagePackPrimitives"/> into its own buffers instead.
/// </summary>
/// <remarks>
/// A class rather than a struct over <see cref="IBufferWriter{T}"/> so that it can be passed around
/// and disposed without copy hazards; it is itself an <see cref="IBufferWriter{T}"/>, so raw
/// producers can append to it. Not thread-safe. <see cref="Dispose"/> returns the buffer to the pool;
/// spans obtained from <see cref="WrittenSpan"/> are invalid afterwards.
/// </remarks>
public sealed class MessagePackWriter : IBufferWriter<byte>, IDisposable
{
    private const int DefaultInitialCapacity = 256;

    private byte[] _buffer;
    private int _written;

    public MessagePackWriter(int initialCapacity = DefaultInitialCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(initialCapacity);
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, MessagePackPrimitives.MaxTimestampLength));
    }

    /// <summary>The bytes written since construction or the last <see cref="Reset"/>.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    /// <inheritdoc cref="WrittenSpan"/>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

    public int WrittenCount => _written;

    /// <summary>Forgets what was written, keeping the buffer for reuse.</summary>
    public void Reset() => _written = 0;

    /// <summary>Copies the written bytes into a new array.</summary>
    public byte[] ToArray() => WrittenSpan.ToArray();

    public void WriteNil() => Advance(MessagePackPrimitives.WriteNil(Reserve(1)));

    public void Write(bool value) => Advance(MessagePackPrimitives.WriteBoolean(Reserve(1), value));

    public void Write(long value) => Advance(MessagePackPrimitives.WriteInt64(Reserve(MessagePackPrimitives.MaxHeaderLength), value));

    public void Write(ulong value) => Advance(MessagePackPrimitives.WriteUInt64(Reserve(MessagePackPrimitives.MaxHeaderLength), value));

    public void Write(double value) => Advance(MessagePackPrimitives.WriteDouble(Reserve(MessagePackPrimitives.MaxHeaderLength), value));

    public void Write(float value) => Advance(MessagePackPrimitives.WriteSingle(Reserve(MessagePackPrimitives.MaxHeaderLength), value));

    public void WriteArrayHeader(int count) => Advance(MessagePackPrimitives.WriteArrayHeader(Reserve(MessagePackPrimitives.MaxHeaderLength), count));

    public void WriteMapHeader(int count) => Advance(MessagePackPrimitives.WriteMapHeader(Reserve(MessagePackPrimitives.MaxHeaderLength), count));

    /// <summary>
    /// Writes <paramref name="value"/> as a UTF-8 str. Lone surrogates become U+FFFD, as with
    /// <see cref="System.Text.Encoding.UTF8"/>.
    /// </summary>
    public void WriteString(ReadOnlySpan<char> value) =>
        Advance(MessagePackPrimitives.WriteString(Reserve(MessagePackPrimitives.GetMaxStringLength(value.Length)), value));

    /// <summary>Writes already-encoded UTF-8 as a str; the bytes are copied as they are.</summary>
    public void WriteString(ReadOnlySpan<byte> utf8) =>
        Advance(MessagePackPrimitives.WriteString(Reserve(MessagePackPrimitives.MaxHeaderLength + utf8.Length), utf8));

    public void WriteBinary(ReadOnlySpan<byte> value) =>
        Advance(MessagePackPrimitives.WriteBinary(Reserve(MessagePackPrimitives.MaxHeaderLength + value.Length), value));

    public void WriteExtension(sbyte type, ReadOnlySpan<byte> data)
    {
        Span<byte> destination = Reserve(MessagePackPrimitives.MaxHeaderLength + data.Length);
        int headerLength = MessagePackPrimitives.WriteExtensionHeader(destination, type, data.Length);
        data.CopyTo(destination[headerLength..]);
        Advance(headerLength + data.Length);
    }

    /// <summary>
    /// Writes <paramref name="value"/> as a timestamp extension (type -1) in its smallest form
    /// (32, 64 or 96). <see cref="DateTimeOffset"/> has 100 ns resolution.
    /// </summary>
    public void WriteTimestamp(DateTimeOffset value)
    {
        long ticks = value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        long seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long remainder);
        if (remainder < 0)
        {
            // Timestamps count whole seconds downwards and nanoseconds upwards.
            seconds--;
            remainder += TimeSpan.TicksPerSecond;
        }

        WriteTimestamp(seconds, (uint)(remainder * TimeSpan.NanosecondsPerTick));
    }

    /// <inheritdoc cref="MessagePackPrimitives.WriteTimestamp"/>
    public void WriteTimestamp(long seconds, uint nanoseconds) =>
        Advance(MessagePackPrimitives.WriteTimestamp(Reserve(MessagePackPrimitives.MaxTimestampLength), seconds, nanoseconds));

    /// <summary>Appends bytes that are already MessagePack (a pre-encoded value), unchanged.</summary>
    public void WriteRaw(ReadOnlySpan<byte> messagePack)
    {
        messagePack.CopyTo(Reserve(messagePack.Length));
        Advance(messagePack.Length);
    }

    /// <inheritdoc />
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - _written);
        _written += count;
    }

    /// <inheritdoc />
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(Math.Max(sizeHint, 1));
        return _buffer.AsMemory(_written);
    }

    /// <inheritdoc />
    public Span<byte> GetSpan(int sizeHint = 0) => Reserve(Math.Max(sizeHint, 1));

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

    /// <summary>Returns the free space after the written bytes, at least <paramref name="size"/> long.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> Reserve(int size)
    {
        if (_buffer.Length - _written < size)
        {
            Grow(size);
        }

        return _buffer.AsSpan(_written);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(int size)
    {
        ObjectDisposedException.ThrowIf(_buffer.Length == 0, this);
        long needed = (long)_written + size;
        if (needed > Array.MaxLength)
        {
            throw new InvalidOperationException($"A MessagePack document cannot exceed {Array.MaxLength} bytes.");
        }

        int newSize = (int)Math.Min(Math.Max(needed, (long)_buffer.Length * 2), Array.MaxLength);
        byte[] bigger = ArrayPool<byte>.Shared.Rent(newSize);
        _buffer.AsSpan(0, _written).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}
