using System.Diagnostics;
using System.Threading.Channels;
using Ingest.Encoding;

namespace Ingest.Pipeline;

/// <summary>
/// Turns one source's chunks into Kafka records. A batch closes on event count, bytes or linger,
/// whichever comes first, always at a chunk boundary. Events are copied once, from their chunks
/// into the exact-size record value.
/// </summary>
internal sealed class Batcher
{
    /// <summary>
    /// .NET's timers run on a coarse clock (CLOCK_MONOTONIC_COARSE: one jiffy, 4 ms on a HZ=250
    /// kernel), so one fires up to a tick late, and a thread-pool hop later still; the ring-wait
    /// benchmark measured 25 ms from event to acknowledgement with a 20 ms linger. Armed up to a
    /// tick early, a batch closes within its linger rather than after it.
    /// </summary>
    private static readonly TimeSpan TimerTick = TimeSpan.FromMilliseconds(4);

    private readonly ChannelReader<EventChunk> _input;
    private readonly ChannelWriter<OutgoingRecord> _output;
    private readonly WhenFull _outputWhenFull;
    private readonly BatchOptions _options;
    private readonly RecordEnvelope _envelope;
    private readonly string _topic;
    private readonly SourceStats _stats;
    private readonly AcknowledgementTracker? _acknowledgements;
    private readonly List<EventChunk> _pending = [];
    private int _count;
    private int _bytes;
    private long _checkpoint = -1;
    private int _generation;
    private long _openedAt;
    private CancellationTokenSource _linger = new();
    private bool _lingerArmed;

    public Batcher(
        ChannelReader<EventChunk> input,
        ChannelWriter<OutgoingRecord> output,
        WhenFull outputWhenFull,
        BatchOptions options,
        RecordEnvelope envelope,
        string topic,
        SourceStats stats)
    {
        _input = input;
        _output = output;
        _outputWhenFull = outputWhenFull;
        _options = options;
        _envelope = envelope;
        _topic = topic;
        _stats = stats;
        _acknowledgements = stats.Acknowledgements;
    }

    /// <summary>Runs until the input completes, then emits what is pending and returns.</summary>
    public async Task RunAsync()
    {
        var linger = TimeSpan.FromMilliseconds(_options.LingerMs);
        var slack = TimeSpan.FromTicks(Math.Min(TimerTick.Ticks, linger.Ticks / 4));
        try
        {
            while (true)
            {
                bool more;
                if (_pending.Count == 0)
                {
                    // No batch open: no timer either, an idle source costs no wake-ups.
                    more = await _input.WaitToReadAsync().ConfigureAwait(false);
                }
                else
                {
                    if (!_lingerArmed)
                    {
                        // Armed once per batch, when the first wait finds it open (not on every
                        // chunk): a timer-queue update per wake-up is what made batching cost per chunk.
                        var remaining = linger - slack - Stopwatch.GetElapsedTime(_openedAt);
                        if (remaining <= TimeSpan.Zero)
                        {
                            await EmitAsync().ConfigureAwait(false);
                            continue;
                        }

                        _linger.CancelAfter(remaining);
                        _lingerArmed = true;
                    }

                    try
                    {
                        more = await _input.WaitToReadAsync(_linger.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        await EmitAsync().ConfigureAwait(false);
                        continue;
                    }
                }

                if (!more)
                {
                    break;
                }

                while (_input.TryRead(out var chunk))
                {
                    await AddAsync(chunk).ConfigureAwait(false);
                }
            }

            if (_pending.Count > 0)
            {
                await EmitAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _linger.Dispose();
        }
    }

    private async ValueTask AddAsync(EventChunk chunk)
    {
        if (_pending.Count > 0 && chunk.Generation != _generation)
        {
            // Read after a rewind: never in one record with events read before it.
            await EmitAsync().ConfigureAwait(false);
        }

        if (chunk.Count == 0)
        {
            if (chunk.Checkpoint >= 0)
            {
                if (_pending.Count > 0)
                {
                    // Covers the open batch and everything before it: rides on the open batch.
                    _checkpoint = chunk.Checkpoint;
                }
                else
                {
                    // Everything before it is in records already sent: due once they are acknowledged.
                    _acknowledgements?.TrackCheckpoint(chunk.Generation, chunk.Checkpoint);
                }
            }

            chunk.Return();
            return;
        }

        if (_pending.Count > 0 && (_bytes + chunk.Length > _options.MaxBytes || _count + chunk.Count > _options.MaxEvents))
        {
            await EmitAsync().ConfigureAwait(false);
        }

        if (_pending.Count == 0)
        {
            _openedAt = Stopwatch.GetTimestamp();
            _generation = chunk.Generation;
        }

        _pending.Add(chunk);
        _count += chunk.Count;
        _bytes += chunk.Length;

        // Only now, with the chunk in the batch: a checkpoint covers the events before it, so it
        // belongs to the record that holds its chunk, never to the one an overflow just closed.
        if (chunk.Checkpoint >= 0)
        {
            _checkpoint = chunk.Checkpoint;
        }

        if (_bytes >= _options.MaxBytes || _count >= _options.MaxEvents)
        {
            await EmitAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask EmitAsync()
    {
        var value = GC.AllocateUninitializedArray<byte>(_envelope.Overhead + _bytes);
        var offset = _envelope.WriteHeader(value, _count);
        foreach (var chunk in _pending)
        {
            chunk.Span.CopyTo(value.AsSpan(offset));
            offset += chunk.Length;
            chunk.Return();
        }

        var record = new OutgoingRecord(_topic, _envelope.KeyUtf8, value, _count, _checkpoint, _stats, _generation, _acknowledgements?.Track(_generation, _checkpoint));
        if (_lingerArmed)
        {
            _lingerArmed = false;
            if (!_linger.TryReset())
            {
                // It fired (or is firing): a cancelled source cannot be reused.
                _linger.Dispose();
                _linger = new CancellationTokenSource();
            }
        }

        _pending.Clear();
        _count = 0;
        _bytes = 0;
        _checkpoint = -1;

        if (_output.TryWrite(record))
        {
            return;
        }

        if (_outputWhenFull == WhenFull.DropNewest)
        {
            record.Failed(DropReason.SinkQueueFull);
            return;
        }

        await _output.WriteAsync(record).ConfigureAwait(false);
    }
}
