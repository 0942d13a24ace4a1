using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Ingest.Fleet;

/// <summary>`ingest fleet --json`: one JSON document, the hosts selected plus a summary (docs/fleet.md).</summary>
public static class FleetJson
{
    public static void Write(Stream output, FleetState state, IReadOnlyList<FleetHost> rows, long nowMs)
    {
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        json.WriteStartObject();
        json.WriteString("now", Iso(nowMs));
        json.WriteNumber("hosts_total", state.Hosts.Count);
        json.WriteNumber("hosts_shown", rows.Count);
        json.WriteNumber("stale", rows.Count(r => r.IsStale(nowMs)));
        json.WriteNumber("records_read", state.Records);
        json.WriteNumber("records_malformed", state.Malformed);
        json.WriteStartArray("hosts");
        foreach (var row in rows)
        {
            WriteHost(json, row, nowMs);
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.Flush();
    }

    private static void WriteHost(Utf8JsonWriter json, FleetHost row, long nowMs)
    {
        json.WriteStartObject();
        json.WriteString("host", row.Host);
        if (row.LastHeartbeatMs > 0)
        {
            json.WriteString("last_seen", Iso(row.LastHeartbeatMs));
            json.WriteNumber("silent_s", Math.Round((nowMs - row.LastHeartbeatMs) / 1000.0, 3));
        }
        else
        {
            json.WriteNull("last_seen");
            json.WriteNull("silent_s");
        }

        json.WriteBoolean("stale", row.IsStale(nowMs));
        json.WriteNumber("interval_s", row.IntervalSeconds);
        json.WriteString("version", row.Version);
        json.WriteNumber("uptime_s", row.UptimeSeconds);
        json.WriteNumber("events_per_s", Math.Round(row.EventsPerSecond, 2));
        json.WriteNumber("dropped", row.Dropped);
        json.WriteNumber("dropped_per_s", Math.Round(row.DroppedPerSecond, 2));
        json.WriteStartObject("channels");
        foreach (var c in row.Channels)
        {
            json.WriteStartObject(c.Name);
            json.WriteNumber("received", c.Received);
            json.WriteNumber("delivered", c.Delivered);
            json.WriteNumber("dropped", c.Dropped);
            json.WriteNumber("received_per_s", c.ReceivedPerSecond);
            json.WriteNumber("delivered_per_s", c.DeliveredPerSecond);
            json.WriteNumber("dropped_per_s", c.DroppedPerSecond);
            json.WriteEndObject();
        }

        json.WriteEndObject();
        if (row.SpoolBytes is null && row.SpoolRecords is null)
        {
            json.WriteNull("spool");
        }
        else
        {
            json.WriteStartObject("spool");
            json.WriteNumber("records", row.SpoolRecords ?? 0);
            json.WriteNumber("bytes", row.SpoolBytes ?? 0);
            json.WriteEndObject();
        }

        if (row.Alarm is { } alarm)
        {
            json.WriteStartObject("alarm");
            json.WriteNumber("sensor_id", alarm.SensorId);
            json.WriteNumber("milli_celsius", alarm.MilliCelsius);
            json.WriteNumber("threshold_mc", alarm.ThresholdMilliCelsius);
            json.WriteString("at", Iso(alarm.TimestampNs / 1_000_000));
            json.WriteString("channel", alarm.Channel);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("alarm");
        }

        json.WriteStartObject("commands");
        json.WriteString("state", row.CommandState);
        if (row.LastCommandStatus is not null)
        {
            json.WriteStartObject("last");
            json.WriteString("id", row.LastCommandId);
            json.WriteString("status", row.LastCommandStatus);
            json.WriteString("op", row.LastCommandOp);
            json.WriteString("at", Iso(row.LastCommandAtMs));
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("last");
        }

        json.WriteEndObject();
        json.WriteNumber("rss_bytes", row.RssBytes);
        json.WriteNumber("cpu_percent", row.CpuPercent);
        json.WriteEndObject();
    }

    internal static string Iso(long unixMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
