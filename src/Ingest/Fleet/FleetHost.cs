namespace Ingest.Fleet;

/// <summary>What `ingest fleet` knows of one host: its latest heartbeat and latest sensor alarm.</summary>
public sealed class FleetHost(string host)
{
    private readonly List<FleetChannel> _channels = [];

    public string Host { get; } = host;

    /// <summary>Unix ms of the latest heartbeat (the daemon's clock); 0 = none seen yet.</summary>
    public long LastHeartbeatMs { get; internal set; }

    public double IntervalSeconds { get; internal set; }

    public double UptimeSeconds { get; internal set; }

    internal Utf8Text? VersionText { get; set; }

    public string? Version => VersionText?.Value;

    public IReadOnlyList<FleetChannel> Channels => _channels;

    /// <summary>Null when the host reports no spool.</summary>
    public long? SpoolRecords { get; internal set; }

    public long? SpoolBytes { get; internal set; }

    internal Utf8Text? CommandStateText { get; set; }

    public string? CommandState => CommandStateText?.Value;

    internal Utf8Text? LastCommandIdText { get; set; }

    internal Utf8Text? LastCommandStatusText { get; set; }

    internal Utf8Text? LastCommandOpText { get; set; }

    public string? LastCommandId => LastCommandIdText?.Value;

    public string? LastCommandStatus => LastCommandStatusText?.Value;

    public string? LastCommandOp => LastCommandOpText?.Value;

    public long LastCommandAtMs { get; internal set; }

    public long RssBytes { get; internal set; }

    public double CpuPercent { get; internal set; }

    public long Heartbeats { get; internal set; }

    /// <summary>The latest kingest `sensor` event with alarm set; null = none seen.</summary>
    public FleetAlarm? Alarm { get; internal set; }

    /// <summary>Events/s over the kernel-facing channels (the heartbeats' own `ingest` channel left out).</summary>
    public double EventsPerSecond
    {
        get
        {
            double sum = 0;
            foreach (var c in _channels)
            {
                if (!c.IsHeartbeat)
                {
                    sum += c.ReceivedPerSecond;
                }
            }

            return sum;
        }
    }

    public long Dropped
    {
        get
        {
            long sum = 0;
            foreach (var c in _channels)
            {
                sum += c.Dropped;
            }

            return sum;
        }
    }

    public double DroppedPerSecond
    {
        get
        {
            double sum = 0;
            foreach (var c in _channels)
            {
                sum += c.DroppedPerSecond;
            }

            return sum;
        }
    }

    /// <summary>Silent for more than 3 heartbeat intervals (or never sent one).</summary>
    public bool IsStale(long nowMs) => LastHeartbeatMs == 0 || nowMs - LastHeartbeatMs > 3 * IntervalSeconds * 1000;

    internal void BeginChannels()
    {
        foreach (var c in _channels)
        {
            c.Present = false;
        }
    }

    internal void EndChannels() => _channels.RemoveAll(static c => !c.Present);

    internal FleetChannel Channel(ReadOnlySpan<byte> name)
    {
        foreach (var c in _channels)
        {
            if (name.SequenceEqual(c.NameUtf8))
            {
                return c;
            }
        }

        var created = new FleetChannel(name.ToArray());
        _channels.Add(created);
        return created;
    }
}

/// <summary>One channel's figures from a host's latest heartbeat.</summary>
public sealed class FleetChannel(byte[] nameUtf8)
{
    internal byte[] NameUtf8 { get; } = nameUtf8;

    public string Name { get; } = System.Text.Encoding.UTF8.GetString(nameUtf8);

    /// <summary>The `ingest` channel: the heartbeats themselves.</summary>
    public bool IsHeartbeat => NameUtf8.AsSpan().SequenceEqual("ingest"u8);

    public long Received { get; internal set; }

    public long Delivered { get; internal set; }

    public long Dropped { get; internal set; }

    public double ReceivedPerSecond { get; internal set; }

    public double DeliveredPerSecond { get; internal set; }

    public double DroppedPerSecond { get; internal set; }

    /// <summary>Seen in the latest heartbeat (a channel can disappear after a restart).</summary>
    internal bool Present { get; set; }
}

/// <summary>A kingest sensor reading over its threshold.</summary>
public sealed record FleetAlarm(ulong SensorId, long MilliCelsius, long ThresholdMilliCelsius, long TimestampNs, string Channel);
