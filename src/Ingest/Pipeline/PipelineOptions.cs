namespace Ingest.Pipeline;

/// <summary>Shape of the graph: batching, the edges' sizes and policies, topic routing.</summary>
public sealed class PipelineOptions
{
    /// <summary>Largest default edge of an acknowledging source: 64 chunks, 4 MiB.</summary>
    public const int AcknowledgedEdgeCapacity = 64;

    public BatchOptions Batch { get; set; } = new();

    /// <summary>
    /// Default edge between each source and its batcher (capacity in chunks). 256 chunks of
    /// <see cref="BatchOptions.ChunkBytes"/> (64 KiB) hold up to 16 MiB per source, about 100k
    /// 100-byte datagrams: the slack that keeps a UDP receive thread reading while the batcher's
    /// thread waits for a core (bench udp-floor, two generators on 2 cores: the worst of five
    /// runs lost 13-14 % to kernel_dropped with 64 chunks, 6-9 % with 256). Chunks are pooled
    /// and a low-rate source never fills its edge, so the bound costs memory only under a burst.
    /// </summary>
    public EdgeOptions SourceEdge { get; set; } = new() { Capacity = 256, WhenFull = WhenFull.Block };

    /// <summary>Per-channel overrides of <see cref="SourceEdge"/>, by channel name.</summary>
    public Dictionary<string, EdgeOptions> ChannelEdges { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Edge between the batchers and the Kafka producer (capacity in records).</summary>
    public EdgeOptions SinkEdge { get; set; } = new() { Capacity = 64, WhenFull = WhenFull.Block };

    public string DefaultTopic { get; set; } = "kernel.events";

    /// <summary>Per-channel topic routing, by channel name.</summary>
    public Dictionary<string, string> Topics { get; set; } = new(StringComparer.Ordinal);

    public EdgeOptions EdgeFor(string channel) => ChannelEdges.TryGetValue(channel, out var edge) ? edge : SourceEdge;

    /// <summary>
    /// The edge capacity, in chunks, of a source on <paramref name="channel"/>. An acknowledging
    /// source (the ring) takes at most <see cref="AcknowledgedEdgeCapacity"/> from
    /// <see cref="SourceEdge"/>: it waits on a full edge and its kernel ring is the buffer, so a
    /// deeper edge only holds memory (bench ring: +28 MiB peak RSS at 256, no faster). An entry of
    /// its own in <see cref="ChannelEdges"/> still applies as written.
    /// </summary>
    public int EdgeCapacityFor(string channel, bool acknowledging) =>
        acknowledging && !ChannelEdges.ContainsKey(channel)
            ? Math.Min(SourceEdge.Capacity, AcknowledgedEdgeCapacity)
            : EdgeFor(channel).Capacity;

    public string TopicFor(string channel) => Topics.TryGetValue(channel, out var topic) ? topic : DefaultTopic;

    public void Validate()
    {
        Batch.Validate();
        SourceEdge.Validate("Pipeline:SourceEdge");
        SinkEdge.Validate("Pipeline:SinkEdge");
        foreach (var (channel, edge) in ChannelEdges)
        {
            edge.Validate($"Pipeline:ChannelEdges:{channel}");
        }

        if (string.IsNullOrWhiteSpace(DefaultTopic))
        {
            throw new ConfigurationException("Pipeline:DefaultTopic must not be empty");
        }
    }
}
