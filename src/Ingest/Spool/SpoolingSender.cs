using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Ingest.Pipeline;
using Microsoft.Extensions.Logging;

namespace Ingest.Spool;

/// <summary>
/// Drains the sink edge into the publisher through the durable spool (docs/architecture.md,
/// "Durable spool"). In <see cref="SpoolMode.Overflow"/> records go straight to the producer until
/// it cannot take one (its queue is full, or a delivery failed retriably); from then on, new
/// records go to the log behind the backlog, and the backlog is published in order (failed
/// records first, then the log) until it is empty. In <see cref="SpoolMode.Always"/> every record
/// is appended before it is produced. Records of acknowledging sources (the ring) bypass the
/// spool: the kernel ring is their buffer, and a loss rewinds them.
/// </summary>
/// <remarks>
/// One loop owns the state; delivery reports (librdkafka's thread) only flip entry states, queue
/// failures and wake the loop. A log frame's read position is committed only once it and every
/// frame before it are finished with, so a SIGKILL replays, never skips.
/// </remarks>
internal sealed class SpoolingSender : IRecordListener
{
    private static readonly object Direct = new();

    private readonly ChannelReader<OutgoingRecord> _input;
    private readonly IRecordPublisher _publisher;
    private readonly SegmentLog _log;
    private readonly SpoolOptions _options;
    private readonly Func<string, string, SourceStats?> _resolve;
    private readonly SourceStats _recovered;
    private readonly long _firstSegmentOfRun;
    private readonly ILogger _logger;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly ConcurrentQueue<OutgoingRecord> _failures = new();
    private readonly Lock _windowGate = new();
    private readonly LinkedList<Entry> _window = new();
    private readonly List<OutgoingRecord> _retry = [];
    private readonly HashSet<SpoolPosition> _settledBeforeRewind = [];
    private int _retryCursor;
    private Entry? _pending;
    private OutgoingRecord? _heldAcknowledged;
    private int _directInFlight;
    private long _ordinal;
    private bool _backlog;
    private bool _caughtUp = true;
    private int _replayFailed;
    private long _pauseUntil;
    private SpoolPosition _recoveredCounted;
    private volatile bool _stopped;
    private long _spooledRecords;
    private long _spooledEvents;
    private long _replayedRecords;
    private long _replayedBytes;
    private long _replayedEvents;
    private long _rateEvents;
    private long _rateAt = Stopwatch.GetTimestamp();
    private double _replayRate;

    public SpoolingSender(
        ChannelReader<OutgoingRecord> input,
        IRecordPublisher publisher,
        SegmentLog log,
        SpoolOptions options,
        Func<string, string, SourceStats?> resolve,
        SourceStats recovered,
        ILogger logger)
    {
        _input = input;
        _publisher = publisher;
        _log = log;
        _options = options;
        _resolve = resolve;
        _recovered = recovered;
        _logger = logger;
        _firstSegmentOfRun = log.NextWriteSegment;

        // What a previous run left behind is published before anything new.
        _backlog = log.Records > 0;
        _caughtUp = !_backlog;
    }

    public SegmentLog Log => _log;

    public SpoolMode Mode => _options.Mode;

    /// <summary>Records written to the log by this run (spilled at shutdown included).</summary>
    public long SpooledRecords => Volatile.Read(ref _spooledRecords);

    /// <summary>Events in the records written to the log by this run.</summary>
    public long SpooledEvents => Volatile.Read(ref _spooledEvents);

    /// <summary>Records published from the spool (or the in-memory retry list) and acknowledged.</summary>
    public long ReplayedRecords => Volatile.Read(ref _replayedRecords);

    public long ReplayedBytes => Volatile.Read(ref _replayedBytes);

    /// <summary>Events per second acknowledged from the spool, over the last second or so.</summary>
    public double ReplayRate => Volatile.Read(ref _replayRate);

    /// <summary>True while new records queue behind a backlog (always true in <see cref="SpoolMode.Always"/>).</summary>
    public bool Backlogged => Volatile.Read(ref _backlog) || _options.Mode == SpoolMode.Always;

    public Telemetry.SpoolSnapshot Snapshot()
    {
        var oldest = _log.OldestTimestampMs;
        return new Telemetry.SpoolSnapshot
        {
            Mode = _options.Mode.ToString().ToLowerInvariant(),
            Directory = _log.Directory,
            Bytes = _log.Bytes,
            MaxBytes = _options.MaxBytes,
            Records = _log.Records,
            OldestAgeSeconds = oldest == 0 ? 0 : Math.Max(0, (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - oldest) / 1000.0),
            Backlog = Backlogged,
            SpooledRecords = SpooledRecords,
            SpooledEvents = SpooledEvents,
            ReplayedRecords = ReplayedRecords,
            ReplayedBytes = ReplayedBytes,
            ReplayRate = ReplayRate,
            Full = _log.FullRefusals,
            Corrupt = _log.CorruptFrames,
            CorruptBytes = _log.CorruptBytes,
        };
    }

    public async Task RunAsync(CancellationToken abort)
    {
        var inputDone = false;
        while (true)
        {
            UpdateRate();
            if (abort.IsCancellationRequested)
            {
                break;
            }

            if (!inputDone)
            {
                inputDone = Pull();
            }

            if (_heldAcknowledged is { } held && TryPublish(held))
            {
                _heldAcknowledged = null;
            }

            Settle();
            Replay();

            // At shutdown: done once nothing is in flight and the backlog is published; a broker
            // that stays away ends this at the flush deadline, and the log keeps what is left.
            if (inputDone && IsIdle() && (!Backlogged || (_caughtUp && _pending is null)))
            {
                break;
            }

            await WaitAsync(inputDone, abort).ConfigureAwait(false);
        }

        Stop();
    }

    public void OnDelivered(OutgoingRecord record)
    {
        if (ReferenceEquals(record.ListenerState, Direct))
        {
            Interlocked.Decrement(ref _directInFlight);
        }
        else if (record.ListenerState is Entry entry)
        {
            Interlocked.Increment(ref _replayedRecords);
            Interlocked.Add(ref _replayedBytes, record.Value.Length);
            Interlocked.Add(ref _replayedEvents, record.Count);
            entry.State = EntryState.Done;
        }

        _wake.Writer.TryWrite(true);
    }

    public void OnFailed(OutgoingRecord record)
    {
        if (ReferenceEquals(record.ListenerState, Direct))
        {
            Interlocked.Decrement(ref _directInFlight);
        }
        else if (record.ListenerState is Entry entry)
        {
            entry.State = EntryState.Done;
        }

        _wake.Writer.TryWrite(true);
    }

    public bool OnRetriableFailure(OutgoingRecord record)
    {
        if (_stopped)
        {
            return OnShutdown(record);
        }

        if (ReferenceEquals(record.ListenerState, Direct))
        {
            record.Stats.AddSpooled(record.Count);
            record.ListenerState = null;
            _failures.Enqueue(record);
            Interlocked.Decrement(ref _directInFlight);
        }
        else if (record.ListenerState is Entry entry)
        {
            // Back in the spool: the frame (or the in-memory retry) is published again after a rewind.
            record.Stats.AddSpooled(record.Count);
            entry.State = EntryState.Retry;
            Volatile.Write(ref _replayFailed, 1);
        }
        else
        {
            return false;
        }

        _wake.Writer.TryWrite(true);
        return true;
    }

    public bool OnShutdown(OutgoingRecord record)
    {
        if (record.ListenerState is Entry { Frame: not null })
        {
            // Still in the log, uncommitted: the next start publishes it again.
            record.Stats.AddSpooled(record.Count);
            return true;
        }

        if (ReferenceEquals(record.ListenerState, Direct))
        {
            Interlocked.Decrement(ref _directInFlight);
            record.ListenerState = null;
        }

        if (!Append(record))
        {
            // The caller counts it (shutdown, or possibly_delivered).
            return false;
        }

        record.Stats.AddSpooled(record.Count);
        return true;
    }

    /// <summary>Moves records from the sink edge to the producer or the log; true when the edge is completed and empty.</summary>
    private bool Pull()
    {
        while (_heldAcknowledged is null && _input.TryRead(out var record))
        {
            record.Ordinal = ++_ordinal;
            if (record.IsAcknowledged)
            {
                if (!TryPublish(record))
                {
                    _heldAcknowledged = record;
                }

                continue;
            }

            record.Listener = this;
            if (_options.Mode == SpoolMode.Always || Volatile.Read(ref _backlog))
            {
                Spool(record);
                continue;
            }

            record.ListenerState = Direct;
            Interlocked.Increment(ref _directInFlight);
            if (!TryPublish(record))
            {
                // The producer's queue is full: this record and everything after it go behind it.
                Interlocked.Decrement(ref _directInFlight);
                Volatile.Write(ref _backlog, true);
                Spool(record);
            }
        }

        return _input.Completion.IsCompleted;
    }

    private void Spool(OutgoingRecord record)
    {
        if (!Append(record))
        {
            record.Listener = null;
            record.Failed(DropReason.SpoolFull);
            return;
        }

        record.Spooled();
        _caughtUp = false;
    }

    private bool Append(OutgoingRecord record)
    {
        var payload = SpooledRecord.Encode(record.Stats.Channel, record.Stats.Name, record.Topic, record.Key, record.Value, record.Count, out var length);
        try
        {
            if (_log.TryAppend(payload.AsSpan(0, length), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()))
            {
                Interlocked.Increment(ref _spooledRecords);
                Interlocked.Add(ref _spooledEvents, record.Count);
                return true;
            }

            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            _logger.LogError("spool append failed: {Message}", e.Message);
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload);
        }
    }

    /// <summary>Folds failures into the retry list, commits the finished prefix, rewinds after a failed replay.</summary>
    private void Settle()
    {
        if (!_failures.IsEmpty)
        {
            Volatile.Write(ref _backlog, true);
            _pauseUntil = Stopwatch.GetTimestamp() + (long)(_options.RetryBackoffMs * (Stopwatch.Frequency / 1000.0));
            while (_failures.TryDequeue(out var failed))
            {
                // Reports may come in any order across partitions: keep the retry list in edge order.
                var index = _retry.BinarySearch(failed, OrdinalComparer.Instance);
                _retry.Insert(index < 0 ? ~index : index, failed);
            }
        }

        var commitTo = default(SpoolPosition);
        var frames = 0;
        var anyInFlight = false;
        lock (_windowGate)
        {
            while (_window.First is { } node && node.Value.State == EntryState.Done)
            {
                var entry = node.Value;
                _window.RemoveFirst();
                if (entry.Frame is { } frame)
                {
                    commitTo = frame.Next;
                    frames++;
                }
                else
                {
                    _retry.Remove(entry.Record!);
                    _retryCursor--;
                }
            }

            foreach (var entry in _window)
            {
                anyInFlight |= entry.State == EntryState.InFlight;
            }
        }

        if (frames > 0)
        {
            _log.Commit(commitTo, frames);
        }

        if (Volatile.Read(ref _replayFailed) != 0 && !anyInFlight)
        {
            Rewind();
        }
    }

    private void Rewind()
    {
        lock (_windowGate)
        {
            foreach (var entry in _window)
            {
                if (entry.State == EntryState.Done)
                {
                    if (entry.Frame is { } frame)
                    {
                        _settledBeforeRewind.Add(frame.Position);
                    }
                    else
                    {
                        _retry.Remove(entry.Record!);
                    }
                }
            }

            _window.Clear();
        }

        _pending = null;
        _retryCursor = 0;
        _log.Rewind();
        _caughtUp = false;
        Volatile.Write(ref _replayFailed, 0);
        _pauseUntil = Stopwatch.GetTimestamp() + (long)(_options.RetryBackoffMs * (Stopwatch.Frequency / 1000.0));
        _logger.LogInformation("spool: the broker did not take a replayed record; retrying from the oldest unacknowledged one in {Backoff} ms", _options.RetryBackoffMs);
    }

    /// <summary>Publishes the backlog in order, within the replay window.</summary>
    private void Replay()
    {
        if (!Backlogged || Volatile.Read(ref _replayFailed) != 0 || Stopwatch.GetTimestamp() < _pauseUntil)
        {
            return;
        }

        // Records produced directly before the backlog began must settle first: any of them may
        // still fail and then belongs at the head of the backlog.
        if (Volatile.Read(ref _directInFlight) > 0 || !_failures.IsEmpty)
        {
            return;
        }

        while (WindowCount() < _options.ReplayWindowRecords)
        {
            var entry = _pending ?? NextEntry();
            if (entry is null)
            {
                break;
            }

            _pending = null;
            if (entry.State == EntryState.Done)
            {
                AddToWindow(entry);
                continue;
            }

            // Counted in the window, and in flight, before the hand-over: the report may come back at once.
            AddToWindow(entry);
            entry.Record!.Unspooled();
            if (!TryPublish(entry.Record!))
            {
                entry.Record!.Spooled();
                lock (_windowGate)
                {
                    _window.RemoveLast();
                }

                _pending = entry;
                break;
            }

            if (entry.Frame is null)
            {
                _retryCursor++;
            }
        }

        if (_options.Mode == SpoolMode.Overflow && _caughtUp && _pending is null && _retry.Count == 0 && WindowCount() == 0)
        {
            Volatile.Write(ref _backlog, false);
        }
    }

    private Entry? NextEntry()
    {
        if (_retryCursor < _retry.Count)
        {
            var record = _retry[_retryCursor];
            var entry = new Entry(null, record);
            record.ListenerState = entry;
            return entry;
        }

        while (_log.TryRead(out var frame))
        {
            if (_settledBeforeRewind.Remove(frame.Position))
            {
                return new Entry(frame, null) { State = EntryState.Done };
            }

            var decoded = SpooledRecord.Decode(frame.Payload);
            if (decoded is null)
            {
                _logger.LogWarning("spool: frame at {Position} is intact but not a record this version reads; skipped", frame.Position);
                return new Entry(frame, null) { State = EntryState.Done };
            }

            var stats = StatsFor(frame, decoded);
            var record = new OutgoingRecord(decoded.Topic, decoded.Key, decoded.Value, decoded.Count, -1, stats) { Listener = this };
            var entry = new Entry(frame, record);
            record.ListenerState = entry;
            return entry;
        }

        _caughtUp = true;
        return null;
    }

    private SourceStats StatsFor(SpoolFrame frame, SpooledRecord decoded)
    {
        if (frame.Position.Segment >= _firstSegmentOfRun && _resolve(decoded.Channel, decoded.Source) is { } live)
        {
            return live;
        }

        // Left by an earlier run: counted once as received by the spool's own source, so that
        // received = delivered + dropped + in_flight + spooled holds for it too.
        if (frame.Position >= _recoveredCounted)
        {
            _recovered.AddReceived(decoded.Count);
            _recovered.AddSpooled(decoded.Count);
            _recoveredCounted = frame.Next;
        }

        return _recovered;
    }

    private bool TryPublish(OutgoingRecord record)
    {
        record.MarkPublished();
        try
        {
            return _publisher.TryPublish(record);
        }
        catch (Exception e)
        {
            record.Failed(DropReason.DeliveryFailed);
            _logger.LogError("{Channel}/{Source}: the producer refused a record of {Count} events ({Bytes} bytes), counted as delivery_failed: {Message}", record.Stats.Channel, record.Stats.Name, record.Count, record.Value.Length, e.Message);
            return true;
        }
    }

    private bool IsIdle()
    {
        if (_heldAcknowledged is not null || Volatile.Read(ref _directInFlight) > 0 || !_failures.IsEmpty)
        {
            return false;
        }

        lock (_windowGate)
        {
            if (_window.Count > 0)
            {
                return false;
            }
        }

        return _retryCursor >= _retry.Count;
    }

    private async Task WaitAsync(bool inputDone, CancellationToken abort)
    {
        _wake.Reader.TryRead(out _);
        var interval = TimeSpan.FromMilliseconds(_pending is not null || _heldAcknowledged is not null ? 5 : 50);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(abort);
        timeout.CancelAfter(interval);
        try
        {
            if (inputDone || _heldAcknowledged is not null)
            {
                await _wake.Reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false);
            }
            else
            {
                await Task.WhenAny(_input.WaitToReadAsync(timeout.Token).AsTask(), _wake.Reader.WaitToReadAsync(timeout.Token).AsTask()).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>At the end: what only memory holds goes to the log for the next start.</summary>
    private void Stop()
    {
        Settle();
        _stopped = true;
        if (_heldAcknowledged is { } held)
        {
            held.Failed(DropReason.Shutdown);
            _heldAcknowledged = null;
        }

        while (_input.TryRead(out var record))
        {
            if (record.IsAcknowledged)
            {
                record.Failed(DropReason.Shutdown);
                continue;
            }

            record.Listener = this;
            Spool(record);
        }

        List<OutgoingRecord> unsent;
        lock (_windowGate)
        {
            // Retries in the window are still the producer's: the publisher's flush spills them.
            var inWindow = _window.Where(e => e.Frame is null).Select(e => e.Record!).ToHashSet(ReferenceEqualityComparer.Instance);
            unsent = _retry.Where(r => !inWindow.Contains(r)).ToList();
        }

        foreach (var record in unsent)
        {
            // Counted as spooled since its failure; the log keeps it, or it is lost and counted.
            if (!Append(record))
            {
                record.Listener = null;
                record.Unspooled();
                record.Failed(DropReason.Shutdown);
            }
        }

        try
        {
            _log.Flush();
        }
        catch (IOException e)
        {
            _logger.LogWarning("spool flush at shutdown failed: {Message}", e.Message);
        }
    }

    private void UpdateRate()
    {
        var elapsed = Stopwatch.GetElapsedTime(_rateAt);
        if (elapsed >= TimeSpan.FromSeconds(1))
        {
            var events = Volatile.Read(ref _replayedEvents);
            Volatile.Write(ref _replayRate, (events - _rateEvents) / elapsed.TotalSeconds);
            _rateEvents = events;
            _rateAt = Stopwatch.GetTimestamp();
            _log.Flush();
        }
    }

    private int WindowCount()
    {
        lock (_windowGate)
        {
            return _window.Count;
        }
    }

    private void AddToWindow(Entry entry)
    {
        lock (_windowGate)
        {
            _window.AddLast(entry);
        }
    }

    private enum EntryState
    {
        InFlight,
        Done,
        Retry,
    }

    /// <summary>One record of the backlog handed to the producer: a log frame, or a retry from memory.</summary>
    private sealed class Entry(SpoolFrame? frame, OutgoingRecord? record)
    {
        private int _state;

        /// <summary>Where the frame is, without its payload: the window must not keep the bytes alive.</summary>
        public FrameSpan? Frame { get; } = frame is { } f ? new FrameSpan(f.Position, f.Next) : null;

        public OutgoingRecord? Record { get; } = record;

        public EntryState State
        {
            get => (EntryState)Volatile.Read(ref _state);
            set => Volatile.Write(ref _state, (int)value);
        }
    }

    private readonly record struct FrameSpan(SpoolPosition Position, SpoolPosition Next);

    private sealed class OrdinalComparer : IComparer<OutgoingRecord>
    {
        public static readonly OrdinalComparer Instance = new();

        public int Compare(OutgoingRecord? x, OutgoingRecord? y) => x!.Ordinal.CompareTo(y!.Ordinal);
    }
}
