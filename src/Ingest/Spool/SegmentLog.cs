using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.IO.Hashing;
using Microsoft.Win32.SafeHandles;

namespace Ingest.Spool;

/// <summary>
/// An append-only log of CRC-checked frames in a folder of segment files
/// (<c>00000000000000000001.seg</c>, ...), bounded in total size, with a persisted read position.
/// Frames are read in append order; <see cref="Commit"/> moves the persisted position past frames
/// that are finished with, and deletes segments left wholly behind it. After a restart (SIGKILL
/// included) reading resumes from the last persisted position: a frame may be read twice, never
/// skipped. Damaged frames (a torn tail, flipped bits) are skipped and counted, never fatal.
/// Thread-safe: one lock around every operation.
/// </summary>
public sealed class SegmentLog : IDisposable
{
    private const string SegmentSuffix = ".seg";
    private const string PositionFile = "position";
    private const uint PositionMagic = 0x50505349; // "ISPP"
    private const int PositionLength = 28;

    /// <summary>How stale the persisted position may get; a SIGKILL replays at most this much again.</summary>
    private static readonly TimeSpan PositionInterval = TimeSpan.FromMilliseconds(100);

    private readonly Lock _gate = new();
    private readonly string _directory;
    private readonly long _maxBytes;
    private readonly long _segmentBytes;
    private readonly SpoolFsync _fsync;
    private readonly TimeSpan _fsyncInterval;
    private readonly FileStream _lock;
    private readonly SortedList<long, long> _segments = []; // id -> size in bytes
    private readonly byte[] _header = new byte[SpoolFrame.HeaderLength];
    private SafeFileHandle? _write;
    private long _writeSegment;
    private SafeFileHandle? _read;
    private long _readSegment = -1;
    private SpoolPosition _next;
    private SpoolPosition _committed;
    private SpoolPosition _persisted;
    private long _persistedAt;
    private long _syncedAt;
    private bool _unsynced;
    private long _bytes;
    private long _records;
    private long _oldestTimestampMs;
    private long _corruptFrames;
    private long _corruptBytes;
    private long _full;
    private long _appended;
    private long _appendedBytes;
    private long _readCount;
    private bool _disposed;

    private SegmentLog(string directory, long maxBytes, long segmentBytes, SpoolFsync fsync, TimeSpan fsyncInterval, FileStream lockFile)
    {
        _directory = directory;
        _maxBytes = maxBytes;
        _segmentBytes = segmentBytes;
        _fsync = fsync;
        _fsyncInterval = fsyncInterval;
        _lock = lockFile;
    }

    public string Directory => _directory;

    /// <summary>Size of all segment files.</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Intact frames not yet committed (found at open plus appended since).</summary>
    public long Records
    {
        get
        {
            lock (_gate)
            {
                return _records;
            }
        }
    }

    /// <summary>Append time of the oldest frame not yet committed (Unix ms); 0 when none.</summary>
    public long OldestTimestampMs
    {
        get
        {
            lock (_gate)
            {
                return _records > 0 ? _oldestTimestampMs : 0;
            }
        }
    }

    /// <summary>Damaged regions skipped (torn tails, frames failing their CRC).</summary>
    public long CorruptFrames => Volatile.Read(ref _corruptFrames);

    /// <summary>Bytes in the damaged regions skipped.</summary>
    public long CorruptBytes => Volatile.Read(ref _corruptBytes);

    /// <summary>Appends refused: the size limit, or the disk itself (ENOSPC), had no room.</summary>
    public long FullRefusals => Volatile.Read(ref _full);

    public long AppendedFrames => Volatile.Read(ref _appended);

    public long AppendedBytes => Volatile.Read(ref _appendedBytes);

    /// <summary>Frames handed out by <see cref="TryRead"/> (re-reads after a rewind included).</summary>
    public long ReadFrames => Volatile.Read(ref _readCount);

    /// <summary>The id the next new segment gets: frames in lower ids were written by an earlier run (or earlier in this one).</summary>
    public long NextWriteSegment
    {
        get
        {
            lock (_gate)
            {
                return _write is null ? _writeSegment + 1 : _writeSegment;
            }
        }
    }

    /// <summary>Where the next <see cref="TryRead"/> starts.</summary>
    public SpoolPosition ReadPosition
    {
        get
        {
            lock (_gate)
            {
                return _next;
            }
        }
    }

    public SpoolPosition CommittedPosition
    {
        get
        {
            lock (_gate)
            {
                return _committed;
            }
        }
    }

    /// <summary>
    /// Opens (creating it if needed) the log in <paramref name="directory"/>, takes its lock file,
    /// and counts the intact frames after the persisted position.
    /// </summary>
    /// <exception cref="IOException">Another process holds the folder, or it cannot be created.</exception>
    public static SegmentLog Open(string directory, long maxBytes, long segmentBytes, SpoolFsync fsync = SpoolFsync.Interval, int fsyncIntervalMs = 1000)
    {
        System.IO.Directory.CreateDirectory(directory);
        FileStream lockFile;
        try
        {
            // FileShare.None is an flock(LOCK_EX) on Linux: a second daemon on the same folder fails here.
            lockFile = new FileStream(Path.Combine(directory, "lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            // Held by another daemon, or not writable (a read-only file system): the OS's words say which.
            throw new IOException($"spool {directory}: cannot take its lock file: {e.Message}", e);
        }

        var log = new SegmentLog(directory, maxBytes, segmentBytes, fsync, TimeSpan.FromMilliseconds(fsyncIntervalMs), lockFile);
        try
        {
            log.Load();
        }
        catch
        {
            log.Dispose();
            throw;
        }

        return log;
    }

    /// <summary>Appends one frame. False when it would pass the size limit or the disk is full (counted).</summary>
    public bool TryAppend(ReadOnlySpan<byte> payload, long timestampMs)
    {
        if (payload.Length > SpoolFrame.MaxPayloadLength)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), $"a spool frame carries at most {SpoolFrame.MaxPayloadLength} bytes");
        }

        var length = SpoolFrame.HeaderLength + payload.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            SpoolFrame.WriteHeader(buffer, payload, timestampMs);
            payload.CopyTo(buffer.AsSpan(SpoolFrame.HeaderLength));
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_bytes + length > _maxBytes)
                {
                    _full++;
                    return false;
                }

                var size = _write is null ? 0 : _segments[_writeSegment];
                if (_write is null || (size > 0 && size + length > _segmentBytes))
                {
                    StartSegment();
                    size = 0;
                }

                try
                {
                    RandomAccess.Write(_write!, buffer.AsSpan(0, length), size);
                }
                catch (IOException)
                {
                    // ENOSPC or EIO: cut off whatever part did land, so the next frame starts clean.
                    _full++;
                    try
                    {
                        RandomAccess.SetLength(_write!, size);
                    }
                    catch (IOException)
                    {
                        _write!.Dispose();
                        _write = null;
                        _segments[_writeSegment] = size;
                    }

                    return false;
                }

                _segments[_writeSegment] = size + length;
                _bytes += length;
                if (_records == 0)
                {
                    _oldestTimestampMs = timestampMs;
                }

                _records++;
                _appended++;
                _appendedBytes += length;
                _unsynced = true;
                SyncIfDue(_fsync == SpoolFsync.Always);
                return true;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Reads the next intact frame after <see cref="ReadPosition"/>, skipping (and counting) damage.
    /// False when every appended frame has been read.
    /// </summary>
    public bool TryRead(out SpoolFrame frame)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            while (true)
            {
                if (!_segments.TryGetValue(_next.Segment, out var size))
                {
                    var following = NextSegmentAfter(_next.Segment);
                    if (following < 0)
                    {
                        frame = default;
                        return false;
                    }

                    _next = new SpoolPosition(following, 0);
                    continue;
                }

                if (_next.Offset >= size)
                {
                    if (_next.Segment == _writeSegment && _write is not null)
                    {
                        frame = default;
                        return false;
                    }

                    var following = NextSegmentAfter(_next.Segment);
                    if (following < 0)
                    {
                        frame = default;
                        return false;
                    }

                    _next = new SpoolPosition(following, 0);
                    continue;
                }

                var handle = ReadHandle(_next.Segment);
                if (TryReadFrameAt(handle, _next, size, out frame))
                {
                    _next = frame.Next;
                    _readCount++;
                    return true;
                }

                // Damage: resume at the next offset that holds an intact frame, or at the next segment.
                var resume = FindIntactFrame(handle, _next.Offset + 1, size);
                var end = resume < 0 ? size : resume;
                _corruptFrames++;
                _corruptBytes += end - _next.Offset;
                _next = new SpoolPosition(_next.Segment, end);
            }
        }
    }

    /// <summary>
    /// Counts a frame that is intact but that its reader cannot use (a record this version does not
    /// read) with the damage (<see cref="CorruptFrames"/>, <see cref="CorruptBytes"/>): it is skipped,
    /// and its events are lost, so the loss must show.
    /// </summary>
    public void CountUnreadable(SpoolFrame frame)
    {
        lock (_gate)
        {
            _corruptFrames++;
            _corruptBytes += SpoolFrame.HeaderLength + frame.Payload.Length;
        }
    }

    /// <summary>Moves the read position back to the committed one: frames read and not committed are read again.</summary>
    public void Rewind()
    {
        lock (_gate)
        {
            _next = _committed;
        }
    }

    /// <summary>
    /// Marks everything before <paramref name="next"/> finished with (<paramref name="frames"/>
    /// intact frames): the persisted position moves there, and segments wholly behind it are deleted.
    /// </summary>
    public void Commit(SpoolPosition next, int frames)
    {
        lock (_gate)
        {
            if (_disposed || next <= _committed)
            {
                return;
            }

            // The end of a finished segment is the start of the one after it.
            if (_segments.TryGetValue(next.Segment, out var size) && next.Offset >= size && !(next.Segment == _writeSegment && _write is not null))
            {
                var following = NextSegmentAfter(next.Segment);
                next = following >= 0 ? new SpoolPosition(following, 0) : new SpoolPosition(next.Segment + 1, 0);
            }

            _committed = next;
            if (_next < _committed)
            {
                _next = _committed;
            }

            _records = Math.Max(0, _records - frames);
            _oldestTimestampMs = PeekTimestamp(next) ?? _oldestTimestampMs;
            var deletable = _segments.Keys.Where(id => id < next.Segment && !(id == _writeSegment && _write is not null)).ToList();

            // Everything written is finished with: the open segment goes too, the next append starts a new one.
            var drained = _write is not null && next.Segment == _writeSegment && next.Offset >= _segments[_writeSegment];
            if (drained)
            {
                _write!.Dispose();
                _write = null;
                deletable.Add(_writeSegment);
            }

            if (deletable.Count > 0 || Stopwatch.GetElapsedTime(_persistedAt) >= PositionInterval)
            {
                // Persist first: a crash between the two leaves a position past nothing, never one into a deleted file.
                PersistPosition();
            }

            foreach (var id in deletable)
            {
                if (id == _readSegment)
                {
                    _read?.Dispose();
                    _read = null;
                    _readSegment = -1;
                }

                File.Delete(SegmentPath(id));
                _bytes -= _segments[id];
                _segments.Remove(id);
            }

            if (_records == 0 && _segments.Count == 0)
            {
                _bytes = 0;
            }
        }
    }

    /// <summary>
    /// True while <see cref="Flush"/> has something to do: frames written since the last fsync, or
    /// a committed position not yet persisted. The sender keeps its flush timer only while this holds.
    /// </summary>
    public bool NeedsFlush
    {
        get
        {
            lock (_gate)
            {
                return !_disposed && ((_unsynced && _write is not null && _fsync != SpoolFsync.Never) || _persisted != _committed);
            }
        }
    }

    /// <summary>Forces due fsyncs and the position file out; the sender calls it on a timer.</summary>
    public void Flush()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            SyncIfDue(force: _fsync != SpoolFsync.Never);
            if (_persisted != _committed)
            {
                PersistPosition();
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            try
            {
                if (_write is not null && _fsync != SpoolFsync.Never)
                {
                    RandomAccess.FlushToDisk(_write);
                }

                if (_segments.Count > 0 && _persisted != _committed)
                {
                    PersistPosition();
                }
            }
            catch (IOException)
            {
                // Closing must not throw: at worst the next start re-reads a little.
            }

            _disposed = true;
            _write?.Dispose();
            _read?.Dispose();
            _lock.Dispose();
        }
    }

    private void Load()
    {
        foreach (var path in System.IO.Directory.EnumerateFiles(_directory, "*" + SegmentSuffix))
        {
            var name = Path.GetFileNameWithoutExtension(path);
            if (name.Length == 20 && long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                _segments[id] = new FileInfo(path).Length;
            }
        }

        _committed = LoadPosition() ?? new SpoolPosition(_segments.Count > 0 ? _segments.Keys[0] : 0, 0);
        foreach (var id in _segments.Keys.Where(id => id < _committed.Segment).ToList())
        {
            File.Delete(SegmentPath(id));
            _segments.Remove(id);
        }

        _persisted = _committed;
        _next = _committed;
        // New frames go to a fresh segment after everything found: a torn tail stays where it was.
        _writeSegment = Math.Max(_segments.Count > 0 ? _segments.Keys[^1] : 0, _committed.Segment);
        _bytes = _segments.Values.Sum();

        // Count what a replay will find; damage is counted when the replay meets it, not here.
        var cursor = _committed;
        long first = 0;
        foreach (var (id, size) in _segments)
        {
            if (id < cursor.Segment)
            {
                continue;
            }

            var offset = id == cursor.Segment ? cursor.Offset : 0;
            var handle = ReadHandle(id);
            while (offset < size)
            {
                if (TryReadFrameAt(handle, new SpoolPosition(id, offset), size, out var frame))
                {
                    if (_records++ == 0)
                    {
                        first = frame.TimestampMs;
                    }

                    offset = frame.Next.Offset;
                    continue;
                }

                var resume = FindIntactFrame(handle, offset + 1, size);
                offset = resume < 0 ? size : resume;
            }
        }

        _oldestTimestampMs = first;
    }

    private void StartSegment()
    {
        if (_write is not null)
        {
            if (_fsync != SpoolFsync.Never)
            {
                RandomAccess.FlushToDisk(_write);
            }

            _write.Dispose();
        }

        _writeSegment++;
        var path = SegmentPath(_writeSegment);
        _write = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite);
        _segments[_writeSegment] = 0;
    }

    private void SyncIfDue(bool force)
    {
        if (_write is null)
        {
            return;
        }

        if (force || (_fsync == SpoolFsync.Interval && Stopwatch.GetElapsedTime(_syncedAt) >= _fsyncInterval))
        {
            RandomAccess.FlushToDisk(_write);
            _syncedAt = Stopwatch.GetTimestamp();
            _unsynced = false;
        }
    }

    private long NextSegmentAfter(long id)
    {
        foreach (var key in _segments.Keys)
        {
            if (key > id)
            {
                return key;
            }
        }

        return -1;
    }

    private SafeFileHandle ReadHandle(long id)
    {
        if (_readSegment != id || _read is null)
        {
            _read?.Dispose();
            _read = File.OpenHandle(SegmentPath(id), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            _readSegment = id;
        }

        return _read;
    }

    private bool TryReadFrameAt(SafeFileHandle handle, SpoolPosition at, long size, out SpoolFrame frame)
    {
        frame = default;
        if (size - at.Offset < SpoolFrame.HeaderLength || RandomAccess.Read(handle, _header, at.Offset) < SpoolFrame.HeaderLength)
        {
            return false;
        }

        var length = SpoolFrame.PayloadLength(_header);
        if (length < 0 || at.Offset + SpoolFrame.HeaderLength + length > size)
        {
            return false;
        }

        var payload = GC.AllocateUninitializedArray<byte>(length);
        if (RandomAccess.Read(handle, payload, at.Offset + SpoolFrame.HeaderLength) < length || !SpoolFrame.IsIntact(_header, payload))
        {
            return false;
        }

        frame = new SpoolFrame(at, new SpoolPosition(at.Segment, at.Offset + SpoolFrame.HeaderLength + length), SpoolFrame.Timestamp(_header), payload);
        return true;
    }

    /// <summary>The first offset at or after <paramref name="from"/> holding an intact frame; -1 when none.</summary>
    private long FindIntactFrame(SafeFileHandle handle, long from, long size)
    {
        var block = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            var p = from;
            while (size - p >= SpoolFrame.HeaderLength)
            {
                var n = RandomAccess.Read(handle, block.AsSpan(0, (int)Math.Min(block.Length, size - p)), p);
                if (n < SpoolFrame.MagicBytes.Length)
                {
                    return -1;
                }

                var i = block.AsSpan(0, n).IndexOf(SpoolFrame.MagicBytes);
                if (i < 0)
                {
                    p += n - (SpoolFrame.MagicBytes.Length - 1);
                    continue;
                }

                var candidate = p + i;
                if (TryReadFrameAt(handle, new SpoolPosition(0, candidate), size, out _))
                {
                    return candidate;
                }

                p = candidate + 1;
            }

            return -1;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block);
        }
    }

    private long? PeekTimestamp(SpoolPosition at)
    {
        if (!_segments.TryGetValue(at.Segment, out var size) || size - at.Offset < SpoolFrame.HeaderLength)
        {
            return null;
        }

        try
        {
            var handle = ReadHandle(at.Segment);
            Span<byte> header = stackalloc byte[SpoolFrame.HeaderLength];
            return RandomAccess.Read(handle, header, at.Offset) == SpoolFrame.HeaderLength && SpoolFrame.PayloadLength(header) >= 0
                ? SpoolFrame.Timestamp(header)
                : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private SpoolPosition? LoadPosition()
    {
        var path = Path.Combine(_directory, PositionFile);
        if (!File.Exists(path))
        {
            return null;
        }

        var bytes = File.ReadAllBytes(path);
        if (bytes.Length != PositionLength || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != PositionMagic
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(24)) != Crc32.HashToUInt32(bytes.AsSpan(0, 24)))
        {
            // A damaged position file costs duplicates (replay from the first segment), never loss.
            _corruptFrames++;
            return null;
        }

        return new SpoolPosition(BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8)), BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(16)));
    }

    private void PersistPosition()
    {
        Span<byte> bytes = stackalloc byte[PositionLength];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, PositionMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[4..], 1);
        BinaryPrimitives.WriteInt64LittleEndian(bytes[8..], _committed.Segment);
        BinaryPrimitives.WriteInt64LittleEndian(bytes[16..], _committed.Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[24..], Crc32.HashToUInt32(bytes[..24]));

        // Write aside and rename: a reader (or a crash) sees the old position or the new one, whole.
        var path = Path.Combine(_directory, PositionFile);
        var temporary = path + ".tmp";
        using (var handle = File.OpenHandle(temporary, FileMode.Create, FileAccess.Write))
        {
            RandomAccess.Write(handle, bytes, 0);
            if (_fsync == SpoolFsync.Always)
            {
                RandomAccess.FlushToDisk(handle);
            }
        }

        File.Move(temporary, path, overwrite: true);
        _persisted = _committed;
        _persistedAt = Stopwatch.GetTimestamp();
    }

    private string SegmentPath(long id) => Path.Combine(_directory, id.ToString("D20", CultureInfo.InvariantCulture) + SegmentSuffix);
}
