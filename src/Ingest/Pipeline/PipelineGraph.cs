using System.Threading.Channels;
using Ingest.Encoding;
using Ingest.Spool;
using Ingest.Transports.Events;
using Microsoft.Extensions.Logging;

namespace Ingest.Pipeline;

/// <summary>
/// source → [bounded source edge] → batcher → [bounded sink edge] → publisher, one chain per
/// source and one shared sink edge. Every edge is bounded, so memory is bounded whatever the
/// input rate; what an edge refuses is counted against the source that wrote it.
/// </summary>
public sealed class PipelineGraph : IAsyncDisposable
{
    private readonly PipelineOptions _options;
    private readonly IRecordPublisher _publisher;
    private readonly ILogger _logger;
    private readonly List<Chain> _chains = [];
    private readonly Channel<OutgoingRecord> _sinkEdge;
    private readonly CancellationTokenSource _stopSources = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly CancellationTokenSource _senderDeadline = new();
    private readonly TaskCompletionSource _faulted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _sender;
    private SpoolingSender? _spool;
    private SourceStats? _recovered;
    private bool _recoveredShown;
    private bool _stopped;

    public PipelineGraph(PipelineOptions options, string hostId, IEnumerable<IEventSource> sources, IRecordPublisher publisher, ILogger logger)
    {
        options.Validate();
        _options = options;
        _publisher = publisher;
        _logger = logger;
        _sinkEdge = Channel.CreateBounded<OutgoingRecord>(new BoundedChannelOptions(options.SinkEdge.Capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

        foreach (var source in sources)
        {
            var stats = new SourceStats(source.Channel, source.Name, source.Counters);
            var edgeOptions = options.EdgeFor(source.Channel);
            var acknowledger = source as IAcknowledgingSource;
            if (acknowledger is not null)
            {
                stats.Acknowledgements = new AcknowledgementTracker(acknowledger, stats);
            }

            // A source that resumes from acknowledged positions must never lose a chunk or a record
            // in user space, whatever the configuration says: it waits on every edge, and its own
            // buffer (the ring) does the dropping and counting.
            var whenFull = acknowledger is null ? edgeOptions.WhenFull : WhenFull.Block;
            var sinkWhenFull = acknowledger is null ? options.SinkEdge.WhenFull : WhenFull.Block;
            var periodic = source is IPeriodicSource;
            var edge = Channel.CreateBounded<EventChunk>(new BoundedChannelOptions(options.EdgeCapacityFor(source.Channel, acknowledger is not null))
            {
                SingleReader = true,
                SingleWriter = true,
                FullMode = BoundedChannelFullMode.Wait,

                // A periodic source's flush runs its batcher right there, on the pool thread that
                // already runs the tick, instead of handing it to another one to wake up.
                AllowSynchronousContinuations = periodic,
            });
            stats.QueueDepth = () => edge.Reader.Count;
            var writer = new ChunkEventWriter(edge.Writer, whenFull, stats, options.Batch.ChunkBytes, _abort.Token, acknowledger);
            var envelope = new RecordEnvelope(hostId, source.Channel, source.Name);

            // A periodic source flushes each burst whole and nothing follows until its next tick:
            // a linger would only arm a timer, one more wake-up of an idle daemon per tick.
            var batch = periodic ? options.Batch.WithoutLinger() : options.Batch;
            var batcher = new Batcher(edge.Reader, _sinkEdge.Writer, sinkWhenFull, batch, envelope, options.TopicFor(source.Channel), stats);
            _chains.Add(new Chain(source, stats, edge, writer, batcher));
        }
    }

    public IReadOnlyList<SourceStats> Stats
    {
        get
        {
            var stats = _chains.ConvertAll(c => c.Stats);
            if (_recovered is not null && _recoveredShown)
            {
                stats.Add(_recovered);
            }

            return stats;
        }
    }

    /// <summary>The durable spool's sender, when <see cref="UseSpool"/> was called.</summary>
    internal SpoolingSender? Spool => _spool;

    /// <summary>
    /// Puts the durable spool between the sink edge and the publisher; call before <see cref="Start"/>.
    /// Records an earlier run left in <paramref name="log"/> are counted by a source of their own,
    /// "spool/recovered", so that every source's accounting stays exact.
    /// </summary>
    public void UseSpool(SegmentLog log, SpoolOptions options)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(options);
        _recovered = new SourceStats("spool", "recovered", new CounterSet());

        // Only frames found at start are counted there: without any, the source would stay at 0.
        _recoveredShown = log.Records > 0;
        var live = _chains.ToDictionary(c => (c.Stats.Channel, c.Stats.Name), c => c.Stats);
        _spool = new SpoolingSender(_sinkEdge.Reader, _publisher, log, options, (channel, source) => live.GetValueOrDefault((channel, source)), _recovered, _logger);
    }

    /// <summary>Sets the observer every source's acknowledged records are reported to; call before <see cref="Start"/>.</summary>
    public void Observe(IRecordObserver observer)
    {
        foreach (var chain in _chains)
        {
            chain.Stats.Observer = observer;
        }

        _recovered?.Observer = observer;
    }

    /// <summary>Records on the sink edge, waiting for the producer.</summary>
    public int SinkQueueDepth => _sinkEdge.Reader.Count;

    /// <summary>Completes (faulted) when a source fails; the daemon then stops and reports it.</summary>
    public Task Faulted => _faulted.Task;

    public void Start()
    {
        _sender = _spool is { } spool
            ? Task.Run(() => spool.RunAsync(_senderDeadline.Token))
            : Task.Run(() => new RecordSender(_sinkEdge.Reader, _publisher, _logger).RunAsync(_senderDeadline.Token));
        foreach (var chain in _chains)
        {
            chain.BatcherTask = Task.Run(chain.Batcher.RunAsync);
            chain.SourceTask = Task.Run(() => RunSourceAsync(chain));
        }
    }

    /// <summary>
    /// Stops the sources, drains every edge into the broker and waits up to
    /// <paramref name="flushTimeout"/> for acknowledgements. Whatever is still unacknowledged then
    /// is ended by the publisher (shutdown, or possibly_delivered when its request was on the
    /// wire), so the figures are final when this returns.
    /// </summary>
    public async Task StopAsync(TimeSpan flushTimeout)
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await _stopSources.CancelAsync().ConfigureAwait(false);
        var deadline = DateTime.UtcNow + flushTimeout;
        _senderDeadline.CancelAfter(flushTimeout);
        foreach (var chain in _chains)
        {
            if (chain.SourceTask is { } task && !await WaitAsync(task, deadline).ConfigureAwait(false))
            {
                // Unblocks a writer stuck on a full edge; what it held is counted (shutdown).
                _logger.LogWarning("source {Channel}/{Source} did not stop in time", chain.Stats.Channel, chain.Stats.Name);
                await _abort.CancelAsync().ConfigureAwait(false);
            }
        }

        // Sources are done (or abandoned): close their edges so the batchers emit what is left.
        foreach (var chain in _chains)
        {
            chain.Edge.Writer.TryComplete();
        }

        foreach (var chain in _chains)
        {
            if (chain.BatcherTask is { } task)
            {
                await task.ConfigureAwait(false);
            }
        }

        _sinkEdge.Writer.TryComplete();
        if (_sender is not null)
        {
            await _sender.ConfigureAwait(false);
        }

        var remaining = deadline - DateTime.UtcNow;
        var ended = _publisher.Flush(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        if (ended > 0)
        {
            _logger.LogWarning("{Records} records still unacknowledged after the flush timeout: counted as dropped (shutdown or possibly_delivered)", ended);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        _stopSources.Dispose();
        _abort.Dispose();
        _senderDeadline.Dispose();
    }

    private async Task RunSourceAsync(Chain chain)
    {
        try
        {
            await chain.Source.RunAsync(chain.Writer, _stopSources.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopSources.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _logger.LogError(e, "source {Channel}/{Source} failed: {Message}", chain.Stats.Channel, chain.Stats.Name, e.Message);
            _faulted.TrySetException(new SourceFailedException(chain.Stats.Channel, chain.Stats.Name, e));
        }
        finally
        {
            chain.Writer.Release();
        }
    }

    private static async Task<bool> WaitAsync(Task task, DateTime deadline)
    {
        var remaining = deadline - DateTime.UtcNow;
        if (remaining < TimeSpan.FromMilliseconds(100))
        {
            remaining = TimeSpan.FromMilliseconds(100);
        }

        return await Task.WhenAny(task, Task.Delay(remaining)).ConfigureAwait(false) == task;
    }

    private sealed class Chain(IEventSource source, SourceStats stats, Channel<EventChunk> edge, ChunkEventWriter writer, Batcher batcher)
    {
        public IEventSource Source { get; } = source;

        public SourceStats Stats { get; } = stats;

        public Channel<EventChunk> Edge { get; } = edge;

        public ChunkEventWriter Writer { get; } = writer;

        public Batcher Batcher { get; } = batcher;

        public Task? SourceTask { get; set; }

        public Task? BatcherTask { get; set; }
    }
}

public sealed class SourceFailedException(string channel, string source, Exception inner)
    : Exception($"source {channel}/{source} failed: {inner.Message}", inner)
{
    public string Channel { get; } = channel;

    public string SourceName { get; } = source;
}
