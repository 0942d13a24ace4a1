using System.Globalization;
using System.Text;

namespace Ingest.Commands;

/// <summary>
/// The ids of commands this host has accepted, each kept until its expiry (plus clock skew): a
/// command seen again inside that window is a replay; outside it, it is expired anyway. Persisted
/// as an append-only file of lines <c>&lt;retain-until-unix-ms&gt; &lt;id&gt;\n</c>, fsynced
/// before the command is applied, rewritten without stale entries when opened. A line that does
/// not parse makes <see cref="Open"/> fail (the caller fails closed) unless told to reset; only
/// an unterminated last line, left by a crash in the middle of an append (before its command
/// ran), is dropped and counted.
/// </summary>
public sealed class ReplayStore : IDisposable
{
    public const string FileName = "command-ids";

    /// <summary>Prune the in-memory set at most this often (in accepted ids).</summary>
    private const int PruneEvery = 1024;

    private readonly Dictionary<string, long> _retainUntil = new(StringComparer.Ordinal);
    private readonly FileStream _log;
    private int _addsSincePrune;

    private ReplayStore(string path, FileStream log, int tornLines, int droppedStale)
    {
        Path = path;
        _log = log;
        TornLines = tornLines;
        StaleDropped = droppedStale;
    }

    public string Path { get; }

    public int Count => _retainUntil.Count;

    /// <summary>Unterminated last lines dropped when opening (a crash during an append).</summary>
    public int TornLines { get; }

    /// <summary>Entries past their retention dropped by the compaction at open.</summary>
    public int StaleDropped { get; }

    /// <summary>Opens (creating when absent) the store in <paramref name="directory"/> and compacts it.</summary>
    /// <param name="directory">State directory; created with mode 0700 when missing.</param>
    /// <param name="nowMs">Current Unix time in ms: entries retained until before it are dropped.</param>
    /// <param name="reset">Discard a corrupted file instead of failing.</param>
    /// <exception cref="ReplayStoreCorruptException">A line does not parse and <paramref name="reset"/> is false.</exception>
    public static ReplayStore Open(string directory, long nowMs, bool reset = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string path = System.IO.Path.Combine(directory, FileName);

        var live = new Dictionary<string, long>(StringComparer.Ordinal);
        int torn = 0, stale = 0;
        if (File.Exists(path))
        {
            try
            {
                (torn, stale) = Load(path, nowMs, live);
            }
            catch (ReplayStoreCorruptException) when (reset)
            {
                live.Clear();
                torn = stale = 0;
            }
        }

        Compact(path, live);
        var log = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Append,
            Access = FileAccess.Write,
            Share = FileShare.Read,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        var store = new ReplayStore(path, log, torn, stale);
        foreach (var (id, until) in live)
        {
            store._retainUntil[id] = until;
        }

        return store;
    }

    /// <summary>True when <paramref name="id"/> was accepted and is still retained at <paramref name="nowMs"/>.</summary>
    public bool Contains(string id, long nowMs) => _retainUntil.TryGetValue(id, out long until) && until >= nowMs;

    /// <summary>
    /// Records <paramref name="id"/> durably (append + fsync) unless already retained; returns
    /// false for an id already there. Call before applying the command: a crash after this
    /// point never applies it twice.
    /// </summary>
    public bool TryAdd(string id, long retainUntilMs, long nowMs)
    {
        if (!CommandRequest.IsValidId(id))
        {
            throw new ArgumentException("id is not a valid command id", nameof(id));
        }

        if (Contains(id, nowMs))
        {
            return false;
        }

        byte[] line = System.Text.Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{retainUntilMs} {id}\n"));
        _log.Write(line);
        _log.Flush(flushToDisk: true);
        _retainUntil[id] = retainUntilMs;
        if (++_addsSincePrune >= PruneEvery)
        {
            _addsSincePrune = 0;
            Prune(nowMs);
        }

        return true;
    }

    public void Dispose() => _log.Dispose();

    private void Prune(long nowMs)
    {
        foreach (var (id, until) in _retainUntil)
        {
            if (until < nowMs)
            {
                _retainUntil.Remove(id);
            }
        }
    }

    private static (int Torn, int Stale) Load(string path, long nowMs, Dictionary<string, long> live)
    {
        string text = File.ReadAllText(path, System.Text.Encoding.ASCII);
        int torn = 0, stale = 0, lineNumber = 0, start = 0;
        while (start < text.Length)
        {
            lineNumber++;
            int end = text.IndexOf('\n', start);
            if (end < 0)
            {
                torn++;
                break;
            }

            ReadOnlySpan<char> line = text.AsSpan(start, end - start);
            start = end + 1;
            int space = line.IndexOf(' ');
            if (space <= 0
                || !long.TryParse(line[..space], NumberStyles.None, CultureInfo.InvariantCulture, out long until)
                || !CommandRequest.IsValidId(line[(space + 1)..].ToString()))
            {
                throw new ReplayStoreCorruptException(
                    $"replay store '{path}' is corrupted at line {lineNumber}: the command path will not start " +
                    "(it could not tell replays apart); inspect the file, or set Commands:ResetReplayStore=true to discard it");
            }

            string id = line[(space + 1)..].ToString();
            if (until < nowMs)
            {
                stale++;
                continue;
            }

            live[id] = Math.Max(until, live.GetValueOrDefault(id));
        }

        return (torn, stale);
    }

    /// <summary>Rewrites the file with only live entries: temp file, fsync, rename, fsync the directory.</summary>
    private static void Compact(string path, Dictionary<string, long> live)
    {
        string temp = path + ".tmp";
        var builder = new StringBuilder(live.Count * 48);
        foreach (var (id, until) in live)
        {
            builder.Append(CultureInfo.InvariantCulture, $"{until} {id}\n");
        }

        using (var stream = new FileStream(temp, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            stream.Write(System.Text.Encoding.ASCII.GetBytes(builder.ToString()));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }
}
