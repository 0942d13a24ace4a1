namespace Ingest.Spool;

/// <summary>The durable spool's settings (<c>Spool:*</c>, docs/configuration.md).</summary>
public sealed class SpoolOptions
{
    public SpoolMode Mode { get; set; } = SpoolMode.Overflow;

    /// <summary>The log's folder; empty = /var/lib/ingest/spool as root, else $XDG_STATE_HOME/ingest/spool.</summary>
    public string? Directory { get; set; }

    /// <summary>Upper bound on the segment files' total size; a record that would pass it is dropped (spool_full).</summary>
    public long MaxBytes { get; set; } = 1L << 30;

    /// <summary>Size at which the log starts a new segment file; whole segments are deleted once replayed.</summary>
    public long SegmentBytes { get; set; } = 64L << 20;

    public SpoolFsync Fsync { get; set; } = SpoolFsync.Interval;

    public int FsyncIntervalMs { get; set; } = 1000;

    /// <summary>Most records replayed from the spool and not yet acknowledged at once.</summary>
    public int ReplayWindowRecords { get; set; } = 256;

    /// <summary>
    /// Upper bound on the bytes per second replayed from the spool to the broker; 0 (default) = as
    /// fast as the broker takes them. A fleet coming back from an outage otherwise replays at once.
    /// </summary>
    public long ReplayMaxBytesPerSecond { get; set; }

    /// <summary>How long after a retriable failure the spool waits before it tries the broker again.</summary>
    public int RetryBackoffMs { get; set; } = 1000;

    public string ResolvedDirectory => string.IsNullOrWhiteSpace(Directory) ? DefaultDirectory() : Directory;

    /// <summary>The segment size actually used: never more than a quarter of <see cref="MaxBytes"/>, so the cap is usable.</summary>
    public long EffectiveSegmentBytes => Math.Max(4096, Math.Min(SegmentBytes, MaxBytes / 4));

    public static string DefaultDirectory()
    {
        if (Environment.IsPrivilegedProcess)
        {
            return "/var/lib/ingest/spool";
        }

        var state = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        if (string.IsNullOrWhiteSpace(state))
        {
            state = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state");
        }

        return Path.Combine(state, "ingest", "spool");
    }

    public void Validate()
    {
        if (MaxBytes is < 64 * 1024 or > 1L << 50)
        {
            throw new ConfigurationException($"Spool:MaxBytes must be between 65536 and 2^50 (got {MaxBytes})");
        }

        if (SegmentBytes is < 4096 or > 1L << 40)
        {
            throw new ConfigurationException($"Spool:SegmentBytes must be between 4096 and 2^40 (got {SegmentBytes})");
        }

        if (FsyncIntervalMs is < 1 or > 3_600_000)
        {
            throw new ConfigurationException($"Spool:FsyncIntervalMs must be between 1 and 3600000 (got {FsyncIntervalMs})");
        }

        if (ReplayWindowRecords is < 1 or > 100_000)
        {
            throw new ConfigurationException($"Spool:ReplayWindowRecords must be between 1 and 100000 (got {ReplayWindowRecords})");
        }

        if (ReplayMaxBytesPerSecond is < 0 or > 1L << 40)
        {
            throw new ConfigurationException($"Spool:ReplayMaxBytesPerSecond must be between 0 (no limit) and 2^40 (got {ReplayMaxBytesPerSecond})");
        }

        if (RetryBackoffMs is < 10 or > 600_000)
        {
            throw new ConfigurationException($"Spool:RetryBackoffMs must be between 10 and 600000 (got {RetryBackoffMs})");
        }
    }
}
