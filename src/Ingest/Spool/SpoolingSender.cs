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
/// it cannot take one (its queue is full, or a delivery failed or waited past the delivery
/// timeout); then every record still with the producer is ended at once, the failed ones are
/// appended to the log in the order they left their batchers, and from then on new records go to
/// the log behind them. The log is published in order until it is empty. In
/// <see cref="SpoolMode.Always"/> every record is appended before it is produced. Records of
/// acknowledging sources (the ring) bypass the spool: the kernel ring is their buffer, and a loss
/// rewinds them.
/// </summary>
/// <remarks>
/// Per-source order: a record must never be acknowledged while an older one of its source is on
/// its way back to the spool. librdkafka's own timeouts can do exactly that (they fail a prefix of
/// a partition's queue while the rest is still delivered), so the producer runs with ordered
/// timeouts (<see cref="IRecordPublisher.HasOverdue"/>): this loop ends everything unacknowledged
/// together (<see cref="IRecordPublisher.Abandon"/>) on a timeout, a failure or a full queue, and
/// only then decides what goes where. One loop owns the state; delivery reports (librdkafka's
/// thread) only flip entry states, queue failures and wake the loop. A log frame's read position
/// is committed only once it and every frame before it are finished with, so a SIGKILL replays,
/// never skips.
/// </remarks>
internal sealed class SpoolingSender : IRecordListener
{
    private static readonly object Direct = new();
    private static readonly TimeSpan StopDrainTimeout = TimeSpan.FromSeconds(5);

    // The reports of one purge take a moment: an overdue head is not purged again before this.
    private static readonly TimeSpan AbandonInterval = TimeSpan.FromSeconds(1);

    // Timers of the loop, armed only while work is pending (NextTimer): a retry soon (a full
    // producer queue, the replay budget, a purge's reports), and the ordered-timeout check while
    // records are outstanding. An idle sender waits with no timer at all.
    private static readonly TimeSpan SoonInterval = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan OutstandingInterval = TimeSpan.FromMilliseconds(50);

    private readonly ChannelReader<OutgoingRecord> _input;
    private readonly IRecordPublisher _publisher;
    private readonly SegmentLog _log;
    private readonly SpoolOptions _options;
    private readonly Func<string, string, SourceStats?> _resolve;
    private readonly SourceStats _recovered;
    private readonly long _firstSegmentOfRun;
    private readonly ILogger _logger;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    // WaitAsync's pending waits, kept from one call to the next (see there).
    private Task<bool>? _woken;
    private Task<bool>? _inputReady;
    private Task? _aborted;
    private readonly ConcurrentQueue<OutgoingRecord> _failures = new();
    private readonly Lock _windowGate = new();
    private readonly LinkedList<Entry> _window = new();
    private readonly HashSet<SpoolPosition> _settledBeforeRewind = [];
    private Entry? _pending;
    private OutgoingRecord? _heldAcknowledged;
    private OutgoingRecord? _overflow;
    private int _directInFlight;
    private long _ordinal;
    private bool _backlog;
    private bool _draining;
    private bool _caughtUp = true;
    private int _replayFailed;
    private bool _replayAbandoned;
    private bool _throttled;
    private double _replayBudget;
    private long _budgetAt = Stopwatch.GetTimestamp();
    private long _pauseUntil;
    private long _abandonedAt;
    private SpoolPosition _recoveredCounted;
    private readonly Lock _stopGate = new();
    private volatile bool _stopped;
    private long _spooledRecords;
    private long _spooledEvents;
    private long _replayedRecords;
    private long _replayedBytes;
    private long _replayedEvents;
    private long _abandons;
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

    /// <summary>Records published from the spool and acknowledged.</summary>
    public long ReplayedRecords => Volatile.Read(ref _replayedRecords);

    public long ReplayedBytes => Volatile.Read(ref _replayedBytes);

    /// <summary>Times this sender ended every unacknowledged record at once (a timeout, a failure, a full queue).</summary>
    public long Abandons => Volatile.Read(ref _abandons);

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
            // Consumed before the work, never after it: a report that lands while this pass runs
            // leaves its wake-up behind, so the wait below returns at once instead of sleeping on it.
            _wake.Reader.TryRead(out _);
            UpdateRate();
            if (abort.IsCancellationRequested)
            {
                break;
            }

            if (Stopwatch.GetElapsedTime(_abandonedAt) > AbandonInterval && _publisher.HasOverdue)
            {
                Abandon("a record waited longer than the delivery timeout (message.timeout.ms)");
            }

            if (!inputDone && !_draining)
            {
                inputDone = Pull();
            }

            if (_heldAcknowledged is { } held && TryPublish(held))
            {
                _heldAcknowledged = null;
            }

            Drain();
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

        await StopAsync().ConfigureAwait(false);
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
        // Queued only while the loop will still drain the queue: StopAsync sets _stopped under the
        // same lock before its last drain, so a failure reported at that moment is appended by
        // OnShutdown instead of waiting, counted spooled, in a queue nobody reads.
        lock (_stopGate)
        {
            if (!_stopped && ReferenceEquals(record.ListenerState, Direct))
            {
                // Waits in memory until every direct record has its outcome, then goes to the log in edge order.
                record.Stats.AddSpooled(record.Count);
                record.ListenerState = null;
                _failures.Enqueue(record);
                Interlocked.Decrement(ref _directInFlight);
                _wake.Writer.TryWrite(true);
                return true;
            }
        }

        if (_stopped)
        {
            return OnShutdown(record);
        }

        if (record.ListenerState is Entry entry)
        {
            // Still in the log, uncommitted: published again after the rewind.
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
        if (record.ListenerState is Entry)
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
        while (_heldAcknowledged is null && !_draining && _failures.IsEmpty && _input.TryRead(out var record))
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
                // The producer's queue is full: the backlog starts with this record, behind every
                // record the producer still holds; those are ended now so none is acknowledged later.
                Interlocked.Decrement(ref _directInFlight);
                record.ListenerState = null;
                _overflow = record;
                _draining = true;
                if (Volatile.Read(ref _directInFlight) > 0)
                {
                    Abandon("the producer's queue is full");
                }
            }
        }

        return _input.Completion.IsCompleted;
    }

    /// <summary>
    /// Ends every record the producer holds (a purge) so that none can be acknowledged after one
    /// that failed; their reports come back as retriable failures.
    /// </summary>
    private void Abandon(string why)
    {
        if (Volatile.Read(ref _directInFlight) > 0)
        {
            _draining = true;
        }

        Interlocked.Increment(ref _abandons);
        _abandonedAt = Stopwatch.GetTimestamp();
        _logger.LogInformation("spool: {Why}; ending every record still with the producer ({InFlight}) so they go to the spool together, in order", why, _publisher.InFlight);
        _publisher.Abandon();
    }

    /// <summary>
    /// Once every direct record has its outcome: the failed ones go to the log in edge order, then
    /// the record that did not fit, and the backlog starts behind them.
    /// </summary>
    private void Drain()
    {
        if (!_draining && !_failures.IsEmpty)
        {
            // A direct record failed: end the others too, so none is acknowledged after it.
            if (Volatile.Read(ref _directInFlight) > 0)
            {
                Abandon("a delivery failed");
            }

            _draining = true;
        }

        if (!_draining || Volatile.Read(ref _directInFlight) > 0)
        {
            return;
        }

        FinishDrain();
        _pauseUntil = Stopwatch.GetTimestamp() + (long)(_options.RetryBackoffMs * (Stopwatch.Frequency / 1000.0));
    }

    private void FinishDrain()
    {
        var failed = new List<OutgoingRecord>();
        while (_failures.TryDequeue(out var record))
        {
            failed.Add(record);
        }

        // Reports come in any order across partitions: the log takes them in edge order.
        failed.Sort(OrdinalComparer.Instance);
        foreach (var record in failed)
        {
            // Counted as spooled since its failure.
            if (!Append(record))
            {
                record.Listener = null;
                record.Unspooled();
                record.Failed(DropReason.SpoolFull);
            }
        }

        if (_overflow is { } overflow)
        {
            _overflow = null;
            Spool(overflow);
        }

        _draining = false;
        if (failed.Count > 0 || _log.Records > 0)
        {
            Volatile.Write(ref _backlog, true);
            _caughtUp = false;
        }
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

    /// <summary>Commits the window's finished prefix; after a failed replay, ends the rest of the window and rewinds.</summary>
    private void Settle()
    {
        var commitTo = default(SpoolPosition);
        var frames = 0;
        var anyInFlight = false;
        lock (_windowGate)
        {
            while (_window.First is { } node && node.Value.State == EntryState.Done)
            {
                _window.RemoveFirst();
                commitTo = node.Value.Frame.Next;
                frames++;
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

        if (Volatile.Read(ref _replayFailed) == 0)
        {
            return;
        }

        if (anyInFlight && !_replayAbandoned)
        {
            // Newer replayed records must not be acknowledged after the one that failed.
            _replayAbandoned = true;
            Abandon("a replayed record failed");
        }
        else if (!anyInFlight)
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
                    _settledBeforeRewind.Add(entry.Frame.Position);
                }
            }

            _window.Clear();
        }

        _pending = null;
        _log.Rewind();
        _caughtUp = false;
        _replayAbandoned = false;
        Volatile.Write(ref _replayFailed, 0);
        _pauseUntil = Stopwatch.GetTimestamp() + (long)(_options.RetryBackoffMs * (Stopwatch.Frequency / 1000.0));
        _logger.LogInformation("spool: the broker did not take a replayed record; retrying from the oldest unacknowledged one in {Backoff} ms", _options.RetryBackoffMs);
    }

    /// <summary>Publishes the backlog in order, within the replay window and the replay rate limit.</summary>
    private void Replay()
    {
        _throttled = false;
        if (!Backlogged || _draining || Volatile.Read(ref _replayFailed) != 0 || Stopwatch.GetTimestamp() < _pauseUntil)
        {
            return;
        }

        // Records produced directly before the backlog began must settle first: any of them may
        // still fail and then belongs at the head of the backlog.
        if (Volatile.Read(ref _directInFlight) > 0 || !_failures.IsEmpty)
        {
            return;
        }

        RefillReplayBudget();
        while (WindowCount() < _options.ReplayWindowRecords)
        {
            if (_options.ReplayMaxBytesPerSecond > 0 && _replayBudget <= 0)
            {
                _throttled = true;
                break;
            }

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

            _replayBudget -= entry.Record!.Value.Length;
        }

        if (_options.Mode == SpoolMode.Overflow && _caughtUp && _pending is null && WindowCount() == 0)
        {
            Volatile.Write(ref _backlog, false);
        }
    }

    /// <summary>Token bucket for <see cref="SpoolOptions.ReplayMaxBytesPerSecond"/>: at most one second's worth banked.</summary>
    private void RefillReplayBudget()
    {
        var now = Stopwatch.GetTimestamp();
        var rate = _options.ReplayMaxBytesPerSecond;
        if (rate > 0)
        {
            _replayBudget = Math.Min(rate, _replayBudget + (rate * (now - _budgetAt) / (double)Stopwatch.Frequency));
        }

        _budgetAt = now;
    }

    private Entry? NextEntry()
    {
        while (_log.TryRead(out var frame))
        {
            if (_settledBeforeRewind.Remove(frame.Position))
            {
                return new Entry(frame, null) { State = EntryState.Done };
            }

            var decoded = SpooledRecord.Decode(frame.Payload);
            if (decoded is null)
            {
                _log.CountUnreadable(frame);
                _logger.LogWarning("spool: frame at {Position} is intact but not a record this version reads; skipped, counted as corrupt", frame.Position);
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
        if (_heldAcknowledged is not null || _overflow is not null || _draining || Volatile.Read(ref _directInFlight) > 0 || !_failures.IsEmpty)
        {
            return false;
        }

        return WindowCount() == 0;
    }

    /// <summary>
    /// Sleeps until something creates work: a record on the sink edge, a delivery report or a
    /// queued failure (<see cref="_wake"/>), or the abort. A timer runs only while work is pending
    /// (<see cref="NextTimer"/>); an idle sender has none, so it costs no wake-ups.
    /// </summary>
    /// <remarks>
    /// No channel wait here takes a cancellation token: a wait cancelled by its token ends by
    /// throwing an <see cref="OperationCanceledException"/> inside the runtime (the loser of the
    /// race was cancelled on every return), and this loop wakes on every burst of records and
    /// reports; under NativeAOT a throw per wake-up was the most expensive thing an idle daemon
    /// did. Instead the channel waits stay pending from one call to the next and are replaced
    /// only once they complete, the abort is a task of its own, and the timer is a delay whose
    /// cancellation completes it without a throw.
    /// </remarks>
    private async Task WaitAsync(bool inputDone, CancellationToken abort)
    {
        _aborted ??= Task.Delay(Timeout.Infinite, abort);
        if (_woken is null || _woken.IsCompleted)
        {
            _woken = _wake.Reader.WaitToReadAsync().AsTask();
        }

        var waitForInput = !inputDone && _heldAcknowledged is null && !_draining && _failures.IsEmpty;
        if (waitForInput && (_inputReady is null || _inputReady.IsCompleted))
        {
            _inputReady = _input.WaitToReadAsync().AsTask();
        }

        // An infinite delay arms no timer. Cancelling takes a finite one out of the timer queue;
        // the delay then ends cancelled, which throws nothing.
        using var stopTimer = new CancellationTokenSource();
        var elapsed = Task.Delay(NextTimer(), stopTimer.Token);
        await (waitForInput ? Task.WhenAny(_woken, _inputReady!, _aborted, elapsed) : Task.WhenAny(_woken, _aborted, elapsed)).ConfigureAwait(false);
        stopTimer.Cancel();
    }

    /// <summary>How long the loop may sleep with no wake-up: infinite when nothing is pending.</summary>
    private TimeSpan NextTimer()
    {
        // Waiting for room in the producer's queue (freed by reports that need not wake this loop),
        // for the replay budget, or for reports of a purge: retried soon.
        if (_pending is not null || _heldAcknowledged is not null || _draining || _throttled || _overflow is not null)
        {
            return SoonInterval;
        }

        // A backlog waiting out the retry backoff: until the backoff ends.
        var replayable = Backlogged && !_caughtUp;
        var pause = _pauseUntil - Stopwatch.GetTimestamp();
        if (replayable && pause > 0)
        {
            return TimeSpan.FromSeconds(pause / (double)Stopwatch.Frequency) + TimeSpan.FromMilliseconds(1);
        }

        // Records outstanding: reports wake the loop, the timer is for the ordered timeout (HasOverdue).
        if (replayable || _publisher.InFlight > 0 || Volatile.Read(ref _directInFlight) > 0 || !_failures.IsEmpty || WindowCount() > 0 || Volatile.Read(ref _replayFailed) != 0)
        {
            // Only records in flight, from a publisher that knows when the oldest turns overdue:
            // nothing but that moment needs a timer. A 50 ms timer after every burst cost an idle
            // daemon two wake-ups per burst even when a report came first and cancelled it: .NET
            // wakes its timer thread, and a pool thread, at the time a cancelled timer was due.
            if (!replayable && _failures.IsEmpty && WindowCount() == 0 && Volatile.Read(ref _replayFailed) == 0 && _publisher.UntilOverdue is { } untilOverdue)
            {
                var chores = ChoresDue();
                if (untilOverdue == Timeout.InfiniteTimeSpan)
                {
                    return chores;
                }

                var overdue = untilOverdue < OutstandingInterval ? OutstandingInterval : untilOverdue;
                return chores != Timeout.InfiniteTimeSpan && chores < overdue ? chores : overdue;
            }

            return OutstandingInterval;
        }

        // Nothing outstanding: only the once-a-second chores, while they have something to do.
        return ChoresDue();
    }

    /// <summary>When the once-a-second chores (replay rate, log fsync and position) are next due; infinite while they have nothing to do.</summary>
    private TimeSpan ChoresDue()
    {
        if (Volatile.Read(ref _replayRate) != 0 || Volatile.Read(ref _replayedEvents) != _rateEvents || _log.NeedsFlush)
        {
            var due = TimeSpan.FromSeconds(1) - Stopwatch.GetElapsedTime(_rateAt);
            return due > TimeSpan.Zero ? due + TimeSpan.FromMilliseconds(1) : TimeSpan.FromMilliseconds(1);
        }

        return Timeout.InfiniteTimeSpan;
    }

    /// <summary>At the end: what only memory holds goes to the log for the next start, oldest first.</summary>
    private async Task StopAsync()
    {
        Settle();

        // Direct records still with the producer at the deadline are older than anything the
        // sink edge still holds: end them and wait for their reports, so the log keeps the order.
        if (Volatile.Read(ref _directInFlight) > 0)
        {
            Abandon("stopping with records still unacknowledged");
            var deadline = Stopwatch.GetTimestamp() + (long)(StopDrainTimeout.TotalSeconds * Stopwatch.Frequency);
            while (true)
            {
                _wake.Reader.TryRead(out _);
                var left = deadline - Stopwatch.GetTimestamp();
                if (Volatile.Read(ref _directInFlight) <= 0 || left <= 0)
                {
                    break;
                }

                // Each report decrements the count and then wakes this wait.
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(left / (double)Stopwatch.Frequency));
                try
                {
                    await _wake.Reader.WaitToReadAsync(wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }

            if (Volatile.Read(ref _directInFlight) > 0)
            {
                _logger.LogWarning("spool: {Count} records got no report {Timeout} s after the purge; the flush keeps them, after newer ones", Volatile.Read(ref _directInFlight), StopDrainTimeout.TotalSeconds);
            }
        }

        // From here a retriable failure goes straight to the log (OnShutdown); what was queued
        // before is drained below, so none is left counted as spooled but never appended.
        lock (_stopGate)
        {
            _stopped = true;
        }

        if (_draining || !_failures.IsEmpty || _overflow is not null)
        {
            FinishDrain();
        }

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

    /// <summary>One frame of the backlog handed to the producer (or already settled, to be committed in order).</summary>
    private sealed class Entry(SpoolFrame frame, OutgoingRecord? record)
    {
        private int _state;

        /// <summary>Where the frame is, without its payload: the window must not keep the bytes alive.</summary>
        public FrameSpan Frame { get; } = new(frame.Position, frame.Next);

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
