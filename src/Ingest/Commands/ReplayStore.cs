using System.Globalization;
using System.Text;
using Ingest.Transports.Files;

namespace Ingest.Commands;

/// <summary>
/// The ids of commands this host has accepted, each kept until its expiry (plus clock skew): a
/// command seen again inside that window is a replay; outside it, it is expired anyway.
/// Persisted as an append-only file of lines:
/// <list type="bullet">
/// <item><c>&lt;retain-until-unix-ms&gt; &lt;id&gt;</c>: the id was recorded, fsynced before the command is applied;</item>
/// <item><c>a &lt;id&gt;</c>: the effector returned (or the command was refused after recording);</item>
/// <item><c>t &lt;unix-ms&gt;</c>: the time high-water mark, the latest clock reading the store acted on.</item>
/// </list>
/// An id recorded without its <c>a</c> line was interrupted between recording and applying:
/// it is answered <c>unknown_outcome</c>, never applied again. Expiry is judged against the
/// high-water mark as well as the clock, so a clock stepped back cannot bring an id that was
/// pruned as expired back to life. The file is compacted (temp file, fsync, rename, fsync the
/// directory) when opened and again once stale lines outnumber live ones while running. A line
/// that does not parse makes <see cref="Open"/> fail unless told to reset; only an unterminated
/// last line, left by a crash in the middle of an append, is dropped and counted.
/// </summary>
public sealed class ReplayStore : IDisposable
{
    public const string FileName = "command-ids";

    /// <summary>Compact while running at this many lines at least (then at 4x the compacted size: amortised O(1) per line).</summary>
    private const int CompactSlack = 4096;

    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly string _directory;
    private FileStream _log;
    private int _lines;
    private int _compactAt = CompactSlack;
    private long _persistedHighWater;

    private ReplayStore(string directory, string path, FileStream log, int tornLines, int droppedStale)
    {
        _directory = directory;
        Path = path;
        _log = log;
        TornLines = tornLines;
        StaleDropped = droppedStale;
    }

    public string Path { get; }

    public int Count => _entries.Count;

    /// <summary>Unterminated last lines dropped when opening (a crash during an append).</summary>
    public int TornLines { get; }

    /// <summary>Entries past their retention dropped by the compaction at open.</summary>
    public int StaleDropped { get; }

    /// <summary>The latest time (Unix ms) the store has acted on; never goes back.</summary>
    public long HighWaterMs { get; private set; }

    /// <summary>Compactions done since open (the one at open included).</summary>
    public int Compactions { get; private set; }

    /// <summary>Opens (creating when absent) the store in <paramref name="directory"/> and compacts it.</summary>
    /// <param name="directory">State directory; created with mode 0700 when missing.</param>
    /// <param name="nowMs">Current Unix time in ms: entries retained until before it (or the high-water mark) are dropped.</param>
    /// <param name="reset">Discard a corrupted file instead of failing.</param>
    /// <exception cref="ReplayStoreCorruptException">A line does not parse and <paramref name="reset"/> is false.</exception>
    /// <exception cref="IOException">The directory or file cannot be read or written (ENOSPC, EACCES, ...).</exception>
    public static ReplayStore Open(string directory, long nowMs, bool reset = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string path = System.IO.Path.Combine(directory, FileName);

        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        int torn = 0, stale = 0;
        long highWater = nowMs;
        if (File.Exists(path))
        {
            try
            {
                (torn, stale, highWater) = Load(path, nowMs, entries);
            }
            catch (ReplayStoreCorruptException) when (reset)
            {
                entries.Clear();
                torn = stale = 0;
            }
        }

        Compact(directory, path, entries, highWater);
        var store = new ReplayStore(directory, path, OpenAppend(path), torn, stale)
        {
            HighWaterMs = highWater,
            _persistedHighWater = highWater,
            _lines = entries.Count + 1,
            _compactAt = Math.Max(CompactSlack, 4 * (entries.Count + 1)),
            Compactions = 1,
        };
        foreach (var (id, entry) in entries)
        {
            store._entries[id] = entry;
        }

        return store;
    }

    /// <summary>max(clock, high-water mark): the time expiry is judged against.</summary>
    public long EffectiveNow(long clockMs) => Math.Max(clockMs, HighWaterMs);

    /// <summary>What the store knows of <paramref name="id"/> at <paramref name="nowMs"/>.</summary>
    public ReplayState Lookup(string id, long nowMs)
    {
        if (!_entries.TryGetValue(id, out Entry entry) || entry.RetainUntilMs < EffectiveNow(nowMs))
        {
            return ReplayState.Unknown;
        }

        return entry.Done ? ReplayState.Done : ReplayState.Pending;
    }

    /// <summary>True when <paramref name="id"/> was accepted and is still retained at <paramref name="nowMs"/>.</summary>
    public bool Contains(string id, long nowMs) => Lookup(id, nowMs) != ReplayState.Unknown;

    /// <summary>
    /// Records <paramref name="id"/> durably (append + fsync) unless already retained; returns
    /// false for an id already there. Call before applying the command: a crash after this
    /// point never applies it twice. Then call <see cref="MarkDone"/> once the effector returned.
    /// </summary>
    /// <exception cref="IOException">The append or fsync failed (ENOSPC, EIO): nothing may be applied.</exception>
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

        HighWaterMs = EffectiveNow(nowMs);
        var line = new StringBuilder(64);
        if (HighWaterMs > _persistedHighWater)
        {
            line.Append(CultureInfo.InvariantCulture, $"t {HighWaterMs}\n");
            _lines++;
        }

        line.Append(CultureInfo.InvariantCulture, $"{retainUntilMs} {id}\n");
        _lines++;
        _log.Write(System.Text.Encoding.ASCII.GetBytes(line.ToString()));
        _log.Flush(flushToDisk: true);
        _persistedHighWater = HighWaterMs;
        _entries[id] = new Entry(retainUntilMs, Done: false);
        return true;
    }

    /// <summary>
    /// Notes that <paramref name="id"/>'s effector returned (or it was refused after recording).
    /// Written through to the kernel but not fsynced: after a power loss the id is answered
    /// <c>unknown_outcome</c> instead of <c>replayed</c>, which is the safe side.
    /// </summary>
    public void MarkDone(string id, long nowMs)
    {
        if (!_entries.TryGetValue(id, out Entry entry) || entry.Done)
        {
            return;
        }

        _log.Write(System.Text.Encoding.ASCII.GetBytes($"a {id}\n"));
        _log.Flush(flushToDisk: false);
        _lines++;
        _entries[id] = entry with { Done = true };
        if (_lines >= _compactAt)
        {
            CompactNow(nowMs);
        }
    }

    /// <summary>Drops expired ids and rewrites the file with the live ones (durably, directory included).</summary>
    public void CompactNow(long nowMs)
    {
        HighWaterMs = EffectiveNow(nowMs);
        foreach (var (id, entry) in _entries)
        {
            if (entry.RetainUntilMs < HighWaterMs)
            {
                _entries.Remove(id);
            }
        }

        _log.Dispose();
        Compact(_directory, Path, _entries, HighWaterMs);
        _log = OpenAppend(Path);
        _persistedHighWater = HighWaterMs;
        _lines = _entries.Count + 1;
        _compactAt = Math.Max(CompactSlack, 4 * _lines);
        Compactions++;
    }

    public void Dispose() => _log.Dispose();

    private static FileStream OpenAppend(string path) => new(path, new FileStreamOptions
    {
        Mode = FileMode.Append,
        Access = FileAccess.Write,
        Share = FileShare.Read,
        UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
    });

    private static (int Torn, int Stale, long HighWater) Load(string path, long nowMs, Dictionary<string, Entry> live)
    {
        string text = File.ReadAllText(path, System.Text.Encoding.ASCII);
        var recorded = new Dictionary<string, Entry>(StringComparer.Ordinal);
        var done = new HashSet<string>(StringComparer.Ordinal);
        int torn = 0, lineNumber = 0, start = 0;
        long highWater = nowMs;
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
            ReadOnlySpan<char> head = space > 0 ? line[..space] : [];
            ReadOnlySpan<char> tail = space > 0 ? line[(space + 1)..] : [];
            if (head is "t" && long.TryParse(tail, NumberStyles.None, CultureInfo.InvariantCulture, out long mark))
            {
                highWater = Math.Max(highWater, mark);
            }
            else if (head is "a" && CommandRequest.IsValidId(tail.ToString()))
            {
                done.Add(tail.ToString());
            }
            else if (long.TryParse(head, NumberStyles.None, CultureInfo.InvariantCulture, out long until) && CommandRequest.IsValidId(tail.ToString()))
            {
                string id = tail.ToString();
                recorded[id] = new Entry(Math.Max(until, recorded.GetValueOrDefault(id).RetainUntilMs), Done: false);
            }
            else
            {
                throw new ReplayStoreCorruptException(
                    $"replay store '{path}' is corrupted at line {lineNumber}: the command path stays off " +
                    "(it could not tell replays apart); inspect the file, or set Commands:ResetReplayStore=true to discard it");
            }
        }

        int stale = 0;
        foreach (var (id, entry) in recorded)
        {
            if (entry.RetainUntilMs < highWater)
            {
                stale++;
                continue;
            }

            live[id] = entry with { Done = done.Contains(id) };
        }

        return (torn, stale, highWater);
    }

    /// <summary>Rewrites the file with only live entries: temp file, fsync, rename, fsync the directory.</summary>
    private static void Compact(string directory, string path, Dictionary<string, Entry> live, long highWater)
    {
        string temp = path + ".tmp";
        var builder = new StringBuilder((live.Count * 48) + 32);
        builder.Append(CultureInfo.InvariantCulture, $"t {highWater}\n");
        foreach (var (id, entry) in live)
        {
            builder.Append(CultureInfo.InvariantCulture, $"{entry.RetainUntilMs} {id}\n");
            if (entry.Done)
            {
                builder.Append(CultureInfo.InvariantCulture, $"a {id}\n");
            }
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
        // The rename is durable only once the directory entry is.
        PrivateFiles.FsyncDirectory(directory);
    }

    private readonly record struct Entry(long RetainUntilMs, bool Done);
}

/// <summary>What the replay store knows of an id.</summary>
public enum ReplayState
{
    /// <summary>Never recorded, or its retention has passed.</summary>
    Unknown,

    /// <summary>Recorded and the outcome noted: a replay.</summary>
    Done,

    /// <summary>Recorded, outcome never noted: interrupted between recording and applying.</summary>
    Pending,
}
