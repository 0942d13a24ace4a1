namespace Ingest.Heartbeat;

/// <summary>The daemon's own health event on kernel.events (docs/events/heartbeat.md).</summary>
public sealed class HeartbeatOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Seconds between two heartbeats; `ingest fleet` marks a host stale after 3 silent intervals.</summary>
    public double IntervalSeconds { get; set; } = 10;

    public void Validate()
    {
        if (IntervalSeconds is < 0.1 or > 3600)
        {
            throw new ConfigurationException($"Heartbeat:IntervalSeconds must be between 0.1 and 3600 (got {IntervalSeconds})");
        }
    }
}
