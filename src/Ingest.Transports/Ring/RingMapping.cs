using Ingest.Transports.Kingest;

namespace Ingest.Transports.Ring;

/// <summary>
/// One mapping of a kingest ring: the producer page, the consumer page and the data area, laid
/// out as kingest.h describes, plus how to wait for the producer. <see cref="RingSource"/> reads
/// /dev/kingest and a user-space <see cref="MemoryRing"/> through this with identical logic; only
/// <see cref="WaitForData"/> differs.
/// </summary>
public abstract unsafe class RingMapping : IDisposable
{
    private readonly Lock _gate = new();
    private bool _disposed;

    /// <summary>The data area: <see cref="DataSize"/> bytes, a power of two.</summary>
    internal byte* Data { get; private protected set; }

    internal ulong DataSize { get; private protected set; }

    /// <summary>kingest_ring_consumer.consumer_pos: written with release by the consumer only.</summary>
    internal ulong* ConsumerPosition { get; private protected set; }

    internal KingestRingProducer* Producer { get; private protected set; }

    /// <summary>A name for logs and the source's <see cref="Events.IEventSource.Name"/>.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Blocks until the producer may have published beyond <paramref name="readPosition"/>, the
    /// timeout passes or <see cref="Wake"/> is called. Spurious returns are allowed: the caller
    /// re-reads producer_pos.
    /// </summary>
    internal abstract void WaitForData(ulong readPosition, int timeoutMs);

    /// <summary>Makes a current or the next <see cref="WaitForData"/> return (cancellation). A no-op once disposed.</summary>
    internal void Wake()
    {
        // Under the gate: a wake racing with Dispose must not write to a closed (maybe reused) fd.
        lock (_gate)
        {
            if (!_disposed)
            {
                WakeCore();
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Release();
        }

        GC.SuppressFinalize(this);
    }

    private protected abstract void WakeCore();

    private protected abstract void Release();

    /// <summary>Checks the meta page as the consumer relies on it; throws <see cref="InvalidDataException"/> otherwise.</summary>
    private protected static void Validate(in KingestRingMeta meta, string name)
    {
        string? problem = null;
        if (meta.Magic != KingestRingLayout.Magic)
        {
            problem = $"magic 0x{meta.Magic:x8}";
        }
        else if (meta.AbiVersion != KingestAbi.AbiVersion)
        {
            problem = $"ABI version {meta.AbiVersion}, this build knows {KingestAbi.AbiVersion}";
        }
        else if (meta.HeaderSize != KingestRecordHeader.Size || meta.RecordAlign != KingestRecordHeader.Align)
        {
            problem = $"header size {meta.HeaderSize}, alignment {meta.RecordAlign}";
        }
        else if (meta.DataSize < KingestRingLayout.MinDataSize || (meta.DataSize & (meta.DataSize - 1)) != 0)
        {
            problem = $"data size {meta.DataSize} is not a power of two >= 64 KiB";
        }
        else if (meta.PageSize == 0 || meta.DataOffset % meta.PageSize != 0 || meta.ConsumerOffset % meta.PageSize != 0
            || meta.ProducerOffset % meta.PageSize != 0)
        {
            problem = $"offsets not page aligned (page {meta.PageSize})";
        }

        if (problem is not null)
        {
            throw new InvalidDataException($"{name}: not a kingest ring this build can read: {problem}");
        }
    }
}
