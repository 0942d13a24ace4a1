using System.IO.Enumeration;

namespace Ingest.Fleet;

/// <summary>Which hosts a view shows and in which order: a host glob (`*`, `?`) and a sort key.</summary>
public sealed class FleetQuery
{
    public string? HostGlob { get; init; }

    public FleetSort Sort { get; init; } = FleetSort.Host;

    /// <summary>Rows shown at most (the live view fits its terminal); null = all.</summary>
    public int? Limit { get; init; }

    public bool Matches(string host) => HostGlob is null || FileSystemName.MatchesSimpleExpression(HostGlob, host, ignoreCase: false);

    public List<FleetHost> Select(IEnumerable<FleetHost> hosts, long nowMs)
    {
        var rows = hosts.Where(h => Matches(h.Host)).ToList();
        Comparison<FleetHost> order = Sort switch
        {
            FleetSort.Seen => (a, b) => a.LastHeartbeatMs.CompareTo(b.LastHeartbeatMs),
            FleetSort.Events => (a, b) => b.EventsPerSecond.CompareTo(a.EventsPerSecond),
            FleetSort.Drops => (a, b) => b.DroppedPerSecond != a.DroppedPerSecond ? b.DroppedPerSecond.CompareTo(a.DroppedPerSecond) : b.Dropped.CompareTo(a.Dropped),
            FleetSort.Spool => (a, b) => (b.SpoolBytes ?? -1).CompareTo(a.SpoolBytes ?? -1),
            FleetSort.Alarm => (a, b) => (b.Alarm?.TimestampNs ?? long.MinValue).CompareTo(a.Alarm?.TimestampNs ?? long.MinValue),
            FleetSort.Cpu => (a, b) => b.CpuPercent.CompareTo(a.CpuPercent),
            FleetSort.Rss => (a, b) => b.RssBytes.CompareTo(a.RssBytes),
            _ => static (_, _) => 0,
        };

        // Host id breaks ties, so the order is stable from one refresh to the next.
        rows.Sort((a, b) =>
        {
            var c = order(a, b);
            return c != 0 ? c : string.CompareOrdinal(a.Host, b.Host);
        });
        return Limit is int limit && rows.Count > limit ? rows.GetRange(0, limit) : rows;
    }
}
