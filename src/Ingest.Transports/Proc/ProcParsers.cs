using Ingest.Transports.Events;

namespace Ingest.Transports.Proc;

/// <summary>Picks a file's parser by name, or by its path when no name is given.</summary>
public static class ProcParsers
{
    public static readonly IReadOnlyList<string> Names = ["net_dev", "stat", "meminfo", "loadavg", "kingest_stats", "kingest_sensors", "lines"];

    /// <summary>The parser name for <paramref name="path"/>: the known files, "lines" for the rest.</summary>
    public static string NameForPath(string path) => path switch
    {
        "/proc/net/dev" or "/proc/self/net/dev" => "net_dev",
        "/proc/stat" => "stat",
        "/proc/meminfo" => "meminfo",
        "/proc/loadavg" => "loadavg",
        "/proc/kingest/stats" => "kingest_stats",
        "/proc/kingest/sensors" => "kingest_sensors",
        _ => "lines",
    };

    /// <summary>A new parser (parsers keep per-file state; one per source).</summary>
    public static IProcParser Create(string name, ProcScrapeOptions options, CounterSet counters) => name switch
    {
        "net_dev" => new NetDevParser(),
        "stat" => new StatParser(),
        "meminfo" => new MemInfoParser(),
        "loadavg" => new LoadAvgParser(),
        "kingest_stats" => new KingestStatsParser(),
        "kingest_sensors" => new KingestSensorsParser(),
        "lines" => new LinesParser(options.MaxLines, options.MaxLineBytes, counters["lines_truncated"]),
        _ => throw new ArgumentException($"unknown /proc parser '{name}': expected one of {string.Join(", ", Names)}", nameof(name)),
    };
}
