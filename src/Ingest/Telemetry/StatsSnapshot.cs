using System.Text.Json.Serialization;
using Ingest.Pipeline;

namespace Ingest.Telemetry;

/// <summary>A point-in-time copy of every figure `ingest stats` shows; serialised as JSON on the control socket.</summary>
public sealed class StatsSnapshot
{
    [JsonPropertyName("host")]
    public string Host { get; set; } = "";

    [JsonPropertyName("uptime_seconds")]
    public double UptimeSeconds { get; set; }

    [JsonPropertyName("bootstrap")]
    public string Bootstrap { get; set; } = "";

    [JsonPropertyName("sink_queue")]
    public int SinkQueue { get; set; }

    [JsonPropertyName("in_flight")]
    public int InFlight { get; set; }

    [JsonPropertyName("sink")]
    public Dictionary<string, long> Sink { get; set; } = [];

    /// <summary>Command outcomes by status (applied, denied, ...); null when the command path is off.</summary>
    [JsonPropertyName("commands")]
    public Dictionary<string, long>? Commands { get; set; }

    /// <summary>"running", "starting" or "disabled: reason"; null when the command path is off.</summary>
    [JsonPropertyName("command_path")]
    public string? CommandPath { get; set; }

    [JsonPropertyName("sources")]
    public List<SourceSnapshot> Sources { get; set; } = [];

    /// <summary>From hand-over to the producer to acknowledgement, per record.</summary>
    [JsonPropertyName("delivery_latency")]
    public LatencySnapshot DeliveryLatency { get; set; } = new();

    /// <summary>Ring producer minus consumer position in bytes, by "channel/source".</summary>
    [JsonPropertyName("ring_lag")]
    public Dictionary<string, long> RingLag { get; set; } = [];

    /// <summary>The durable spool; null when Spool:Mode is off.</summary>
    [JsonPropertyName("spool")]
    public SpoolSnapshot? Spool { get; set; }

    public static SourceSnapshot Capture(SourceStats stats)
    {
        // One consistent read: received = delivered + dropped + in_flight + spooled holds in it.
        var figures = stats.Read();
        var dropped = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var reason in Enum.GetValues<DropReason>())
        {
            dropped[reason.Name()] = figures.Dropped(reason);
        }

        return new SourceSnapshot
        {
            Channel = stats.Channel,
            Source = stats.Name,
            Received = figures.Received,
            Delivered = figures.Delivered,
            InFlight = figures.InFlight,
            Spooled = figures.Spooled,
            Rewinds = figures.Rewinds,
            Records = stats.RecordsDelivered,
            Bytes = stats.BytesDelivered,
            Dropped = dropped,
            Queue = stats.QueueDepth(),
            Transport = stats.TransportCounters.All.ToDictionary(c => c.Name, c => c.Value, StringComparer.Ordinal),
        };
    }
}

public sealed class SourceSnapshot
{
    [JsonPropertyName("channel")]
    public string Channel { get; set; } = "";

    [JsonPropertyName("source")]
    public string Source { get; set; } = "";

    /// <summary>Events the source wrote into the pipeline.</summary>
    [JsonPropertyName("received")]
    public long Received { get; set; }

    /// <summary>Events in records the broker acknowledged.</summary>
    [JsonPropertyName("delivered")]
    public long Delivered { get; set; }

    /// <summary>Events received and not yet delivered, dropped or spooled.</summary>
    [JsonPropertyName("in_flight")]
    public long InFlight { get; set; }

    /// <summary>Events in records the spool holds (on disk, or in memory for a retry).</summary>
    [JsonPropertyName("spooled")]
    public long Spooled { get; set; }

    /// <summary>Times an acknowledging source (the ring) went back to its last published position after a loss.</summary>
    [JsonPropertyName("rewinds")]
    public long Rewinds { get; set; }

    [JsonPropertyName("records")]
    public long Records { get; set; }

    [JsonPropertyName("bytes")]
    public long Bytes { get; set; }

    /// <summary>Events lost after the source wrote them, by reason.</summary>
    [JsonPropertyName("dropped")]
    public Dictionary<string, long> Dropped { get; set; } = [];

    /// <summary>Chunks waiting on the source edge.</summary>
    [JsonPropertyName("queue")]
    public int Queue { get; set; }

    /// <summary>The transport's own counters: malformed input, overruns, kernel-side drops.</summary>
    [JsonPropertyName("transport")]
    public Dictionary<string, long> Transport { get; set; } = [];

    [JsonIgnore]
    public long DroppedTotal => Dropped.Values.Sum();

    /// <summary>received - delivered - dropped - in_flight - spooled: 0 in every snapshot.</summary>
    [JsonIgnore]
    public long Unaccounted => Received - Delivered - DroppedTotal - InFlight - Spooled;
}

/// <summary>The durable spool's figures (docs/operations.md).</summary>
public sealed class SpoolSnapshot
{
    [JsonPropertyName("mode")]
    public string Mode { get; set; } = "";

    [JsonPropertyName("directory")]
    public string Directory { get; set; } = "";

    /// <summary>Size of the segment files.</summary>
    [JsonPropertyName("bytes")]
    public long Bytes { get; set; }

    [JsonPropertyName("max_bytes")]
    public long MaxBytes { get; set; }

    /// <summary>Records in the log not yet published.</summary>
    [JsonPropertyName("records")]
    public long Records { get; set; }

    [JsonPropertyName("oldest_age_seconds")]
    public double OldestAgeSeconds { get; set; }

    /// <summary>True while new records queue behind a backlog.</summary>
    [JsonPropertyName("backlog")]
    public bool Backlog { get; set; }

    /// <summary>Records written to the log by this run.</summary>
    [JsonPropertyName("spooled_records")]
    public long SpooledRecords { get; set; }

    /// <summary>Events in the records written to the log by this run.</summary>
    [JsonPropertyName("spooled_events")]
    public long SpooledEvents { get; set; }

    /// <summary>Records published from the spool and acknowledged.</summary>
    [JsonPropertyName("replayed_records")]
    public long ReplayedRecords { get; set; }

    [JsonPropertyName("replayed_bytes")]
    public long ReplayedBytes { get; set; }

    /// <summary>Events per second published from the spool, over the last second.</summary>
    [JsonPropertyName("replay_rate")]
    public double ReplayRate { get; set; }

    /// <summary>Appends refused for lack of room (the records' events count as dropped spool_full).</summary>
    [JsonPropertyName("spool_full")]
    public long Full { get; set; }

    /// <summary>Damaged regions (torn or failing their CRC) skipped.</summary>
    [JsonPropertyName("spool_corrupt")]
    public long Corrupt { get; set; }

    [JsonPropertyName("corrupt_bytes")]
    public long CorruptBytes { get; set; }
}

public sealed class LatencySnapshot
{
    [JsonPropertyName("count")]
    public long Count { get; set; }

    /// <summary>Upper bound (ms) of the bucket holding the median; null when empty or beyond 60 s.</summary>
    [JsonPropertyName("p50_ms")]
    public double? P50Ms { get; set; }

    [JsonPropertyName("p99_ms")]
    public double? P99Ms { get; set; }
}

[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(StatsSnapshot))]
internal sealed partial class StatsJsonContext : JsonSerializerContext;
