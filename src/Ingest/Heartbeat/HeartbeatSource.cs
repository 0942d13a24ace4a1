using System.Reflection;
using Ingest.Commands;
using Ingest.Telemetry;
using Ingest.Transports.Events;

namespace Ingest.Heartbeat;

/// <summary>
/// The daemon's own health as an event source (channel <c>ingest</c>, type <c>heartbeat</c>,
/// docs/events/heartbeat.md): one event at start, then one per interval. It reads the daemon's
/// figures; it is not a kernel transport, but it goes through the same pipeline, so heartbeats are
/// batched, encoded, counted and dropped like any other event.
/// </summary>
public sealed class HeartbeatSource : IPeriodicSource
{
    public const string ChannelName = "ingest";
    public const string SourceName = "heartbeat";

    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ProcessUsage _usage = new();
    private readonly Dictionary<string, ChannelTotals> _previous = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ChannelTotals> _current = new(StringComparer.Ordinal);
    private long _previousTicks;

    public HeartbeatSource(HeartbeatOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _interval = TimeSpan.FromSeconds(options.IntervalSeconds);
        _time = time ?? TimeProvider.System;
    }

    public string Channel => ChannelName;

    public string Name => SourceName;

    public CounterSet Counters { get; } = new();

    /// <summary>The daemon's figures; set before the pipeline starts. Null = no channels reported.</summary>
    public Func<StatsSnapshot>? Stats { get; set; }

    /// <summary>The command path's state as a heartbeat reports it: "off" when Commands:Enabled is false, else the path's own state.</summary>
    public Func<string> CommandState { get; set; } = static () => "off";

    public Func<CommandOutcome?> LastCommand { get; set; } = static () => null;

    /// <summary>The durable spool's backlog; null = no spool (the field is written as nil).</summary>
    public Func<SpoolBacklog?> Spool { get; set; } = static () => null;

    /// <summary>The daemon's version (informational version of this assembly).</summary>
    public static string Version { get; } =
        typeof(HeartbeatSource).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public async Task RunAsync(EventWriter writer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writer);
        // Aligned, so the heartbeat shares its wake-up with the /proc scrapes and the stats line.
        var timer = new AlignedTimer(_interval, _time);
        try
        {
            do
            {
                Write(writer);
                await writer.FlushAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        await writer.FlushAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Writes one heartbeat event (internal for tests).</summary>
    internal void Write(EventWriter writer)
    {
        var snapshot = Stats?.Invoke();
        var ticks = _time.GetTimestamp();
        var elapsed = _previousTicks == 0 ? 0 : _time.GetElapsedTime(_previousTicks, ticks).TotalSeconds;
        _previousTicks = ticks;
        Aggregate(snapshot);
        _usage.Sample();

        writer.BeginEvent(Names.Type, _time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000_000, 9);
        writer.WriteString(Names.Version, Version);
        writer.Write(Names.UptimeSeconds, Math.Round(snapshot?.UptimeSeconds ?? 0, 3));
        writer.Write(Names.IntervalSeconds, _interval.TotalSeconds);

        writer.WriteKey(Names.Channels);
        writer.WriteMapHeader(_current.Count);
        foreach (var (channel, now) in _current)
        {
            var before = _previous.GetValueOrDefault(channel);
            writer.WriteString(channel);
            writer.WriteMapHeader(6);
            writer.Write(Names.Received, now.Received);
            writer.Write(Names.Delivered, now.Delivered);
            writer.Write(Names.Dropped, now.Dropped);
            writer.Write(Names.ReceivedPerSecond, Rate(now.Received - before.Received, elapsed));
            writer.Write(Names.DeliveredPerSecond, Rate(now.Delivered - before.Delivered, elapsed));
            writer.Write(Names.DroppedPerSecond, Rate(now.Dropped - before.Dropped, elapsed));
        }

        writer.WriteKey(Names.Spool);
        if (Spool() is { } spool)
        {
            writer.WriteMapHeader(2);
            writer.Write(Names.Records, spool.Records);
            writer.Write(Names.Bytes, spool.Bytes);
        }
        else
        {
            writer.WriteNil();
        }

        writer.WriteKey(Names.Commands);
        writer.WriteMapHeader(2);
        writer.WriteString(Names.State, CommandState());
        writer.WriteKey(Names.Last);
        if (LastCommand() is { } last)
        {
            writer.WriteMapHeader(4);
            WriteNullable(writer, Names.Id, last.Id);
            writer.WriteString(Names.Status, last.Status.ToWire());
            WriteNullable(writer, Names.Op, last.Op);
            writer.Write(Names.AtMs, last.AtMs);
        }
        else
        {
            writer.WriteNil();
        }

        writer.Write(Names.RssBytes, _usage.RssBytes);
        writer.Write(Names.CpuPercent, _usage.CpuPercent);
        writer.Write(Names.CpuSeconds, Math.Round(_usage.CpuSeconds, 3));
        writer.EndEvent();

        _previous.Clear();
        foreach (var (channel, totals) in _current)
        {
            _previous[channel] = totals;
        }
    }

    private void Aggregate(StatsSnapshot? snapshot)
    {
        _current.Clear();
        if (snapshot is null)
        {
            return;
        }

        foreach (var source in snapshot.Sources)
        {
            var totals = _current.GetValueOrDefault(source.Channel);
            _current[source.Channel] = new ChannelTotals(
                totals.Received + source.Received,
                totals.Delivered + source.Delivered,
                totals.Dropped + source.DroppedTotal);
        }
    }

    private static double Rate(long delta, double seconds) => seconds > 0 ? Math.Round(Math.Max(delta, 0) / seconds, 2) : 0;

    private static void WriteNullable(EventWriter writer, EventName key, string? value)
    {
        writer.WriteKey(key);
        if (value is null)
        {
            writer.WriteNil();
        }
        else
        {
            writer.WriteString(value);
        }
    }

    private readonly record struct ChannelTotals(long Received, long Delivered, long Dropped);

    /// <summary>Field names of the heartbeat event; `ingest fleet` reads the same names.</summary>
    internal static class Names
    {
        public static readonly EventName Type = new("heartbeat");
        public static readonly EventName Version = new("version");
        public static readonly EventName UptimeSeconds = new("uptime_s");
        public static readonly EventName IntervalSeconds = new("interval_s");
        public static readonly EventName Channels = new("channels");
        public static readonly EventName Received = new("received");
        public static readonly EventName Delivered = new("delivered");
        public static readonly EventName Dropped = new("dropped");
        public static readonly EventName ReceivedPerSecond = new("received_per_s");
        public static readonly EventName DeliveredPerSecond = new("delivered_per_s");
        public static readonly EventName DroppedPerSecond = new("dropped_per_s");
        public static readonly EventName Spool = new("spool");
        public static readonly EventName Records = new("records");
        public static readonly EventName Bytes = new("bytes");
        public static readonly EventName Commands = new("commands");
        public static readonly EventName State = new("state");
        public static readonly EventName Last = new("last");
        public static readonly EventName Id = new("id");
        public static readonly EventName Status = new("status");
        public static readonly EventName Op = new("op");
        public static readonly EventName AtMs = new("at_ms");
        public static readonly EventName RssBytes = new("rss_bytes");
        public static readonly EventName CpuPercent = new("cpu_percent");
        public static readonly EventName CpuSeconds = new("cpu_s");
    }
}
