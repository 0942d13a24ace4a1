using Ingest.Transports.Events;

namespace Ingest.Transports.Ring;

/// <summary>The counters of one ring consumer, resolved once from its <see cref="CounterSet"/>.</summary>
internal sealed class RingCounters(CounterSet set)
{
    /// <summary>Records read whose header was valid (written as events or counted below).</summary>
    public Counter Records { get; } = set["records"];

    /// <summary>Pad records skipped (normal: one per wrap that did not fit a record).</summary>
    public Counter Pads { get; } = set["pad"];

    /// <summary>A header whose record reaches past the published producer position.</summary>
    public Counter Torn { get; } = set["torn"];

    /// <summary>A header that breaks the rules: length, alignment, crossing the data area's end, channel, flags.</summary>
    public Counter Invalid { get; } = set["invalid"];

    /// <summary>A well-formed record of a type this build does not know: skipped.</summary>
    public Counter UnknownType { get; } = set["unknown_type"];

    /// <summary>A known type whose payload is too short or inconsistent: skipped.</summary>
    public Counter BadPayload { get; } = set["bad_payload"];

    /// <summary>Bytes skipped while looking for the next plausible header after a torn or invalid one.</summary>
    public Counter ResyncBytes { get; } = set["resync_bytes"];

    /// <summary>A consumer or producer position that cannot be right (misaligned, out of range): corrected.</summary>
    public Counter InvalidPosition { get; } = set["invalid_position"];

    /// <summary>Records the producer dropped because the ring was full (kingest_ring_producer.dropped).</summary>
    public Counter ProducerDropped { get; } = set["producer_dropped"];
}
