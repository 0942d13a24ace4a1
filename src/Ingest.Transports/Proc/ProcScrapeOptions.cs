namespace Ingest.Transports.Proc;

/// <summary>The /proc files to scrape. Each file becomes one <see cref="ProcFileSource"/>.</summary>
public sealed class ProcScrapeOptions
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);

    /// <summary>Files to scrape; empty means <see cref="DefaultFiles"/>.</summary>
    /// <remarks>Empty rather than pre-filled, because configuration binding appends to a list.</remarks>
    public List<ProcScrapeFile> Files { get; set; } = [];

    /// <summary>Lines a "lines" event keeps at most.</summary>
    public int MaxLines { get; set; } = 1000;

    /// <summary>Bytes of line text a "lines" event keeps at most.</summary>
    public int MaxLineBytes { get; set; } = 256 * 1024;

    /// <summary>A file larger than this is not read (counted as "too_large"); /proc/net/* with many sockets can be large.</summary>
    public int MaxFileBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Where failures are reported (once per change of condition, not every interval). Optional.</summary>
    public Action<string>? Log { get; set; }

    /// <summary>/proc/net/dev, /proc/stat, /proc/meminfo and /proc/loadavg, every 10 s.</summary>
    public static IReadOnlyList<ProcScrapeFile> DefaultFiles =>
    [
        new() { Path = "/proc/net/dev" },
        new() { Path = "/proc/stat" },
        new() { Path = "/proc/meminfo" },
        new() { Path = "/proc/loadavg" },
    ];

    public IReadOnlyList<ProcScrapeFile> EffectiveFiles => Files.Count > 0 ? Files : DefaultFiles;

    internal void Validate()
    {
        if (MaxLines < 0 || MaxLineBytes < 0 || MaxFileBytes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxLines), "MaxLines and MaxLineBytes must not be negative; MaxFileBytes must be positive");
        }

        foreach (var file in EffectiveFiles)
        {
            if (string.IsNullOrWhiteSpace(file.Path))
            {
                throw new ArgumentException("a /proc scrape file has no path", nameof(Files));
            }

            if (file.Interval < TimeSpan.FromMilliseconds(1))
            {
                throw new ArgumentOutOfRangeException(nameof(Files), file.Interval, $"scrape interval of {file.Path} must be at least 1 ms");
            }
        }
    }
}
