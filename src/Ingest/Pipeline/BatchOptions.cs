namespace Ingest.Pipeline;

/// <summary>When a batch closes: whichever of count, bytes or linger comes first.</summary>
public sealed class BatchOptions
{
    public int MaxEvents { get; set; } = 4096;

    /// <summary>Encoded event bytes per Kafka record. Keep below the broker's message.max.bytes.</summary>
    public int MaxBytes { get; set; } = 512 * 1024;

    public int LingerMs { get; set; } = 20;

    /// <summary>Bytes a source buffers before it hands a chunk to its edge.</summary>
    public int ChunkBytes { get; set; } = 64 * 1024;

    /// <summary>These limits with no linger: for a source whose flushes are whole bursts (<see cref="Ingest.Transports.Events.IPeriodicSource"/>).</summary>
    internal BatchOptions WithoutLinger() => new() { MaxEvents = MaxEvents, MaxBytes = MaxBytes, LingerMs = 0, ChunkBytes = ChunkBytes };

    public void Validate()
    {
        if (MaxEvents < 1)
        {
            throw new ConfigurationException($"Pipeline:Batch:MaxEvents must be at least 1 (got {MaxEvents})");
        }

        if (MaxBytes is < 1024 or > 64 * 1024 * 1024)
        {
            throw new ConfigurationException($"Pipeline:Batch:MaxBytes must be between 1024 and 67108864 (got {MaxBytes})");
        }

        if (LingerMs is < 0 or > 60_000)
        {
            throw new ConfigurationException($"Pipeline:Batch:LingerMs must be between 0 and 60000 (got {LingerMs})");
        }

        if (ChunkBytes < 256 || ChunkBytes > MaxBytes)
        {
            throw new ConfigurationException($"Pipeline:Batch:ChunkBytes must be between 256 and Pipeline:Batch:MaxBytes (got {ChunkBytes})");
        }
    }
}
