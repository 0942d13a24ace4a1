namespace Ingest.Transports.Events;

/// <summary>
/// Where a source writes its events. One writer belongs to one source and is used from one thread
/// at a time. The writer stamps each event with the next sequence number of its source, so a gap
/// in <c>seq</c> downstream always means loss, wherever it happened.
/// </summary>
/// <remarks>
/// An event is <c>BeginEvent</c>, exactly <c>dataFieldCount</c> key/value pairs (a
/// <see cref="WriteKey"/> followed by one value, which may itself be a map or an array whose
/// elements follow), then <see cref="EndEvent"/>. Events are buffered; <see cref="Flush"/> hands
/// them to the pipeline and is where the edge's when-full policy applies (wait, or drop and
/// count). Sources call it after each burst they read, so latency stays low when traffic is thin.
/// </remarks>
public abstract class EventWriter
{
    /// <summary>The sequence number the next event will carry.</summary>
    public abstract ulong NextSequence { get; }

    /// <summary>Starts an event. <paramref name="timestampNs"/> is Unix time in nanoseconds.</summary>
    public abstract void BeginEvent(EventName type, long timestampNs, int dataFieldCount);

    public abstract void EndEvent();

    /// <summary>
    /// Abandons the event begun by <see cref="BeginEvent"/> (a parse failed half way). The
    /// sequence number it took is not reused: the source must count the failure itself.
    /// </summary>
    public abstract void CancelEvent();

    public abstract void WriteKey(EventName key);

    public abstract void WriteMapHeader(int count);

    public abstract void WriteArrayHeader(int count);

    public abstract void WriteNil();

    public abstract void Write(bool value);

    public abstract void Write(long value);

    public abstract void Write(ulong value);

    public abstract void Write(double value);

    public abstract void Write(EventName value);

    public abstract void WriteString(ReadOnlySpan<char> value);

    public abstract void WriteString(ReadOnlySpan<byte> utf8);

    public abstract void WriteBinary(ReadOnlySpan<byte> value);

    /// <summary>
    /// Hands the buffered events to the pipeline, blocking while the edge is full if its policy is
    /// to wait. <paramref name="checkpoint"/>, when not negative, is a position the source wants
    /// back through <see cref="IAcknowledgingSource.OnDelivered"/> once every event written before
    /// this call has been acknowledged by the broker.
    /// </summary>
    public abstract void Flush(long checkpoint = -1);

    /// <inheritdoc cref="Flush"/>
    public abstract ValueTask FlushAsync(long checkpoint = -1, CancellationToken cancellationToken = default);

    // Convenience pairs: a key and its value. Non-virtual so they cost one extra call at most.
    public void Write(EventName key, long value)
    {
        WriteKey(key);
        Write(value);
    }

    public void Write(EventName key, ulong value)
    {
        WriteKey(key);
        Write(value);
    }

    public void Write(EventName key, double value)
    {
        WriteKey(key);
        Write(value);
    }

    public void Write(EventName key, bool value)
    {
        WriteKey(key);
        Write(value);
    }

    public void Write(EventName key, EventName value)
    {
        WriteKey(key);
        Write(value);
    }

    public void WriteString(EventName key, ReadOnlySpan<char> value)
    {
        WriteKey(key);
        WriteString(value);
    }

    public void WriteString(EventName key, ReadOnlySpan<byte> utf8)
    {
        WriteKey(key);
        WriteString(utf8);
    }

    public void WriteBinary(EventName key, ReadOnlySpan<byte> value)
    {
        WriteKey(key);
        WriteBinary(value);
    }
}
