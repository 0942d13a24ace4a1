namespace Ingest.Transports.Proc;

/// <summary>One file to scrape: where, how often, and with which parser.</summary>
public sealed class ProcScrapeFile
{
    public string Path { get; set; } = string.Empty;

    public TimeSpan Interval { get; set; } = ProcScrapeOptions.DefaultInterval;

    /// <summary>"net_dev", "stat", "meminfo", "loadavg" or "lines"; null picks by path (see <see cref="ProcParsers.NameForPath"/>).</summary>
    public string? Parser { get; set; }
}
