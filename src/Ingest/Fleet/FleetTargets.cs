using System.Diagnostics;
using Ingest.Sinks.Kafka;

namespace Ingest.Fleet;

/// <summary>Who a fleet command goes to: hosts named, listed in a file, or seen heartbeating recently.</summary>
public static class FleetTargets
{
    /// <summary>Hosts of a file: one per line; blank lines and lines starting with # are ignored.</summary>
    public static IEnumerable<string> FromFile(string path) =>
        File.ReadLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'));

    /// <summary>
    /// Hosts matching <paramref name="glob"/> whose latest heartbeat on <paramref name="topic"/> is
    /// at most <paramref name="window"/> old, read from the topic's recent past, in host order.
    /// </summary>
    public static List<string> Seen(string bootstrap, string topic, string glob, TimeSpan window, TimeSpan timeout, IReadOnlyDictionary<string, string>? properties = null)
    {
        var now = DateTimeOffset.UtcNow;
        var state = new FleetState();
        using (var reader = new KafkaRecentReader(bootstrap, topic, now - window, properties))
        {
            var clock = Stopwatch.StartNew();
            while (!reader.CaughtUp && clock.Elapsed < timeout)
            {
                if (reader.Read(TimeSpan.FromMilliseconds(100)) is { } record)
                {
                    state.Apply(record.Value);
                }
            }
        }

        var since = (now - window).ToUnixTimeMilliseconds();
        var query = new FleetQuery { HostGlob = glob };
        return [.. state.Hosts.Where(h => h.LastHeartbeatMs >= since && query.Matches(h.Host)).Select(h => h.Host).Order(StringComparer.Ordinal)];
    }

    /// <summary>Each host once, in first-seen order.</summary>
    public static List<string> Distinct(IEnumerable<string> hosts)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return [.. hosts.Where(seen.Add)];
    }
}
