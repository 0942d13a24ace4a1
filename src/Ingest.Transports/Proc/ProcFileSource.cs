using Ingest.Transports.Events;

namespace Ingest.Transports.Proc;

/// <summary>
/// Scrapes one /proc file every interval (the first scrape at start, then on the boundaries of an
/// <see cref="AlignedTimer"/>, so all files with one interval are read in one wake-up) and writes
/// one event per scrape through the file's parser. Runs on the thread pool: a /proc read does not
/// block long.
/// </summary>
/// <remarks>
/// Never fatal: a missing file counts "missing", an unreadable one "read_error", one past the
/// size limit "too_large", text the parser rejects "parse_error"; each is logged when the
/// condition starts (not every interval) and scraping goes on. "scrapes" counts every attempt.
/// </remarks>
public sealed class ProcFileSource : IPeriodicSource
{
    private const int InitialBufferSize = 16 * 1024;

    private readonly IProcParser _parser;
    private readonly ProcFileReader _reader;
    private readonly TimeSpan _interval;
    private readonly Action<string>? _log;
    private readonly Counter _scrapes;
    private readonly Counter _missing;
    private readonly Counter _readErrors;
    private readonly Counter _tooLarge;
    private readonly Counter _parseErrors;
    private string? _failing;

    public ProcFileSource(ProcScrapeFile file, ProcScrapeOptions options)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(file.Path);
        ArgumentOutOfRangeException.ThrowIfLessThan(file.Interval, TimeSpan.FromMilliseconds(1));
        Name = file.Path;
        _interval = file.Interval;
        _log = options.Log;
        _parser = ProcParsers.Create(file.Parser ?? ProcParsers.NameForPath(file.Path), options, Counters);
        _reader = new ProcFileReader(InitialBufferSize, options.MaxFileBytes);
        _scrapes = Counters["scrapes"];
        _missing = Counters["missing"];
        _readErrors = Counters["read_error"];
        _tooLarge = Counters["too_large"];
        _parseErrors = Counters["parse_error"];
    }

    public string Channel => "proc";

    /// <summary>The file's path.</summary>
    public string Name { get; }

    public CounterSet Counters { get; } = new();

    public IProcParser Parser => _parser;

    /// <summary>One source per file of <paramref name="options"/> (the defaults when it names none).</summary>
    public static IReadOnlyList<ProcFileSource> Create(ProcScrapeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var sources = new List<ProcFileSource>();
        foreach (var file in options.EffectiveFiles)
        {
            sources.Add(new ProcFileSource(file, options));
        }

        return sources;
    }

    public async Task RunAsync(EventWriter writer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writer);
        await Task.Yield();
        try
        {
            var timer = new AlignedTimer(_interval);
            do
            {
                if (Scrape(writer))
                {
                    await writer.FlushAsync(-1, cancellationToken).ConfigureAwait(false);
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            writer.Flush();
            _reader.Dispose();
        }
    }

    /// <summary>Reads and parses the file once; true when an event was written (not yet flushed).</summary>
    internal bool Scrape(EventWriter writer)
    {
        _scrapes.Increment();
        var timestampNs = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * TimeSpan.NanosecondsPerTick;
        ReadOnlySpan<byte> content;
        try
        {
            content = _reader.Read(Name);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Fail(_missing, "missing", "is missing");
        }
        catch (ProcFileTooLargeException e)
        {
            return Fail(_tooLarge, "too_large", e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail(_readErrors, "read_error", $"cannot be read: {e.Message}");
        }

        try
        {
            _parser.Write(content, timestampNs, writer);
        }
        catch (ProcFormatException e)
        {
            return Fail(_parseErrors, "parse_error", $"does not parse as {_parser.Name}: {e.Message}");
        }

        if (_failing is not null)
        {
            _log?.Invoke($"proc {Name}: scraped again after {_failing}");
            _failing = null;
        }

        return true;
    }

    private bool Fail(Counter counter, string condition, string detail)
    {
        counter.Increment();
        if (_failing != condition)
        {
            _log?.Invoke($"proc {Name}: {detail} (counted as {condition}; retrying every {_interval.TotalSeconds:0.###} s, logged again when this changes)");
            _failing = condition;
        }

        return false;
    }
}
