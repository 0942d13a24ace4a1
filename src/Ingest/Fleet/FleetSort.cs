namespace Ingest.Fleet;

/// <summary>Row orders of `ingest fleet --sort`.</summary>
public enum FleetSort
{
    /// <summary>By host id.</summary>
    Host,

    /// <summary>Longest silent first (stale hosts on top).</summary>
    Seen,

    /// <summary>Most events per second first.</summary>
    Events,

    /// <summary>Most dropped events per second, then in total, first.</summary>
    Drops,

    /// <summary>Largest spool backlog first.</summary>
    Spool,

    /// <summary>Most recent sensor alarm first.</summary>
    Alarm,

    /// <summary>Highest daemon CPU first.</summary>
    Cpu,

    /// <summary>Largest daemon RSS first.</summary>
    Rss,
}
