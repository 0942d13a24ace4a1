using System.Globalization;
using System.Text;
using Spectre.Console;

namespace Ingest.Fleet;

/// <summary>The fleet as a Spectre.Console table: one row per host.</summary>
public static class FleetTable
{
    public static Table Build(FleetState state, IReadOnlyList<FleetHost> rows, long nowMs, FleetQuery query)
    {
        var stale = rows.Count(r => r.IsStale(nowMs));
        var table = new Table()
            .Border(TableBorder.Simple)
            .Title($"ingest fleet: {state.Hosts.Count} host(s), {stale} stale shown, sorted by {query.Sort.ToString().ToLowerInvariant()}{(query.HostGlob is null ? "" : $", hosts {Markup.Escape(query.HostGlob)}")}")
            .Caption($"{FleetJson.Iso(nowMs)}  records read {state.Records}, heartbeats {state.Heartbeats}, malformed {state.Malformed}");
        table.AddColumn("host");
        table.AddColumn("last seen");
        table.AddColumn(new TableColumn("events/s").RightAligned());
        table.AddColumn("per channel");
        table.AddColumn(new TableColumn("drops").RightAligned());
        table.AddColumn(new TableColumn("spool").RightAligned());
        table.AddColumn("alarm");
        table.AddColumn("last command");
        table.AddColumn(new TableColumn("cpu%").RightAligned());
        table.AddColumn(new TableColumn("rss").RightAligned());
        foreach (var row in rows)
        {
            var isStale = row.IsStale(nowMs);
            table.AddRow(
                isStale ? $"[red]{Markup.Escape(row.Host)}[/]" : Markup.Escape(row.Host),
                Seen(row, nowMs, isStale),
                Number(row.EventsPerSecond),
                Markup.Escape(PerChannel(row)),
                Drops(row),
                row.SpoolBytes is long bytes ? Bytes(bytes) : "-",
                Alarm(row.Alarm, nowMs),
                Markup.Escape(Command(row)),
                row.CpuPercent.ToString("0.0", CultureInfo.InvariantCulture),
                Bytes(row.RssBytes));
        }

        return table;
    }

    private static string Seen(FleetHost row, long nowMs, bool stale)
    {
        if (row.LastHeartbeatMs == 0)
        {
            return "[red]never[/]";
        }

        var text = $"{Age(nowMs - row.LastHeartbeatMs)} ago";
        return stale ? $"[red]{text} STALE[/]" : text;
    }

    private static string Drops(FleetHost row)
    {
        if (row.Dropped == 0)
        {
            return "0";
        }

        var text = $"{row.Dropped} ({Number(row.DroppedPerSecond)}/s)";
        return row.DroppedPerSecond > 0 ? $"[yellow]{text}[/]" : text;
    }

    private static string Alarm(FleetAlarm? alarm, long nowMs) => alarm is null
        ? "-"
        : string.Create(CultureInfo.InvariantCulture, $"[red]sensor {alarm.SensorId} {alarm.MilliCelsius / 1000.0:0.0}°C > {alarm.ThresholdMilliCelsius / 1000.0:0.0}[/] {Age(nowMs - (alarm.TimestampNs / 1_000_000))} ago");

    private static string Command(FleetHost row) => row.LastCommandStatus is null
        ? row.CommandState ?? "-"
        : $"{row.LastCommandStatus} {row.LastCommandOp} {row.LastCommandId}";

    private static string PerChannel(FleetHost row)
    {
        var text = new StringBuilder();
        foreach (var c in row.Channels)
        {
            if (c.IsHeartbeat || (c.ReceivedPerSecond <= 0 && c.Dropped == 0))
            {
                continue;
            }

            if (text.Length > 0)
            {
                text.Append(' ');
            }

            text.Append(c.Name).Append(' ').Append(Number(c.ReceivedPerSecond));
            if (c.Dropped > 0)
            {
                text.Append(" drop ").Append(c.Dropped);
            }
        }

        return text.ToString();
    }

    private static string Number(double value) => value switch
    {
        >= 1_000_000 => (value / 1_000_000).ToString("0.0", CultureInfo.InvariantCulture) + "M",
        >= 10_000 => (value / 1000).ToString("0", CultureInfo.InvariantCulture) + "k",
        >= 100 => value.ToString("0", CultureInfo.InvariantCulture),
        _ => value.ToString("0.##", CultureInfo.InvariantCulture),
    };

    private static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.0}G"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.0}M"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0}k"),
        _ => bytes.ToString(CultureInfo.InvariantCulture),
    };

    private static string Age(long ms) => ms switch
    {
        < 0 => "0s",
        < 60_000 => string.Create(CultureInfo.InvariantCulture, $"{ms / 1000.0:0.0}s"),
        < 3_600_000 => $"{ms / 60_000}m{ms / 1000 % 60}s",
        _ => $"{ms / 3_600_000}h{ms / 60_000 % 60}m",
    };
}
