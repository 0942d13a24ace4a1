using System.Globalization;
using System.Text;

namespace Ingest.Telemetry;

/// <summary>Renders a <see cref="StatsSnapshot"/> for people: a one-line summary per channel, or a table.</summary>
public static class StatsFormatter
{
    public static string Line(StatsSnapshot snapshot)
    {
        var sb = new StringBuilder("stats");
        foreach (var group in snapshot.Sources.GroupBy(s => s.Channel, StringComparer.Ordinal))
        {
            sb.Append(CultureInfo.InvariantCulture, $" {group.Key}: received={group.Sum(s => s.Received)} delivered={group.Sum(s => s.Delivered)} dropped={group.Sum(s => s.DroppedTotal)} in_flight={group.Sum(s => s.InFlight)} spooled={group.Sum(s => s.Spooled)} queue={group.Sum(s => s.Queue)}");
            var rewinds = group.Sum(s => s.Rewinds);
            if (rewinds > 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $" rewinds={rewinds}");
            }

            sb.Append(';');
        }

        sb.Append(CultureInfo.InvariantCulture, $" in_flight_records={snapshot.InFlight} sink_queue={snapshot.SinkQueue}");
        if (snapshot.Spool is { } spool)
        {
            sb.Append(CultureInfo.InvariantCulture, $"; spool: records={spool.Records} bytes={spool.Bytes} oldest_age_s={spool.OldestAgeSeconds:F0} replay_rate={spool.ReplayRate:F0} spool_full={spool.Full} spool_corrupt={spool.Corrupt}");
        }

        if (snapshot.Commands is { } commands)
        {
            sb.Append(CultureInfo.InvariantCulture, $"; command path: {snapshot.CommandPath}; commands:");
            foreach (var (status, count) in commands)
            {
                sb.Append(CultureInfo.InvariantCulture, $" {status}={count}");
            }
        }

        return sb.ToString();
    }

    public static string Table(StatsSnapshot snapshot)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"host {snapshot.Host}  broker {snapshot.Bootstrap}  up {TimeSpan.FromSeconds(Math.Round(snapshot.UptimeSeconds))}  in flight {snapshot.InFlight} records  sink queue {snapshot.SinkQueue}");
        var rows = new List<string[]> { new[] { "CHANNEL", "SOURCE", "RECEIVED", "DELIVERED", "DROPPED", "IN FLIGHT", "SPOOLED", "REWINDS", "QUEUE", "DETAIL" } };
        foreach (var s in snapshot.Sources)
        {
            var detail = string.Join(' ', s.Dropped.Where(d => d.Value > 0).Select(d => $"{d.Key}={d.Value}")
                .Concat(s.Transport.Where(t => t.Value > 0).Select(t => $"{t.Key}={t.Value}")));
            rows.Add([s.Channel, s.Source, N(s.Received), N(s.Delivered), N(s.DroppedTotal), N(s.InFlight), N(s.Spooled), N(s.Rewinds), N(s.Queue), detail]);
        }

        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Length; i++)
            {
                var right = i is >= 2 and <= 8;
                sb.Append(right ? row[i].PadLeft(widths[i]) : row[i].PadRight(widths[i]));
                sb.Append(i == row.Length - 1 ? "" : "  ");
            }

            sb.AppendLine();
        }

        var latency = snapshot.DeliveryLatency;
        sb.AppendLine(CultureInfo.InvariantCulture, $"delivery latency  records {latency.Count}  p50 <= {Ms(latency.P50Ms)}  p99 <= {Ms(latency.P99Ms)}");
        if (snapshot.Commands is { } commands)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"command path  {snapshot.CommandPath}");
            sb.AppendLine("commands  " + string.Join("  ", commands.Select(c => $"{c.Key} {N(c.Value)}")));
        }

        if (snapshot.Spool is { } spool)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"spool  {spool.Mode}  {spool.Directory}  {N(spool.Records)} records  {N(spool.Bytes)} of {N(spool.MaxBytes)} bytes  oldest {spool.OldestAgeSeconds:F0} s  backlog {(spool.Backlog ? "yes" : "no")}");
            sb.AppendLine(CultureInfo.InvariantCulture, $"spool  spooled {N(spool.SpooledRecords)}  replayed {N(spool.ReplayedRecords)} records ({N(spool.ReplayedBytes)} bytes, {spool.ReplayRate:F0} events/s)  spool_full {N(spool.Full)}  spool_corrupt {N(spool.Corrupt)} ({N(spool.CorruptBytes)} bytes)");
        }

        foreach (var (ring, lag) in snapshot.RingLag)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"ring lag  {ring}  {N(lag)} bytes");
        }

        return sb.ToString().TrimEnd() + Environment.NewLine;
    }

    private static string Ms(double? ms) => ms is { } v ? v.ToString(CultureInfo.InvariantCulture) + " ms" : "-";

    private static string N(long v) => v.ToString(CultureInfo.InvariantCulture);
}
