using System.Diagnostics;
using Ingest.Commands;
using Ingest.Configuration;
using Ingest.Heartbeat;
using Ingest.Kafka;
using Ingest.Pipeline;
using Ingest.Sinks.Broker;
using Ingest.Sinks.Kafka;
using Ingest.Spool;
using Ingest.Telemetry;
using Ingest.Transports.Events;
using Microsoft.Extensions.Logging;

namespace Ingest.Daemon;

/// <summary>
/// `ingest run`: starts the broker connection (or the embedded broker), the sources and the
/// pipeline; prints stats; on cancellation (SIGTERM/SIGINT) stops the sources, flushes
/// in-flight batches and returns.
/// </summary>
public sealed class IngestDaemon
{
    private readonly IngestOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly TextWriter _stdout;
    private readonly Stopwatch _uptime = Stopwatch.StartNew();
    private readonly TaskCompletionSource<int> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Func<bool>? _healthy;

    public IngestDaemon(IngestOptions options, ILoggerFactory loggers, TextWriter stdout)
    {
        _options = options;
        _loggers = loggers;
        _logger = loggers.CreateLogger("ingest");
        _stdout = stdout;
    }

    private static readonly TimeSpan TickSnapshotAge = TimeSpan.FromMilliseconds(100);

    private readonly Lock _tickGate = new();
    private StatsSnapshot? _tickSnapshot;
    private long _tickSnapshotAt;

    /// <summary>Optional: extra sources a host adds (tests, the guest scenario).</summary>
    public List<IEventSource> ExtraSources { get; } = [];

    /// <summary>Set once the pipeline runs; lets tests and the control socket read figures.</summary>
    public Func<StatsSnapshot>? Snapshot { get; private set; }

    /// <summary>The daemon's instruments (meter "Ingest"); set once the pipeline is built.</summary>
    public IngestMetrics? Metrics { get; private set; }

    /// <summary>Counters of the command path per status, when Commands:Enabled.</summary>
    public CommandStats? Commands { get; private set; }

    /// <summary>Completes with the number of sources once every one of them is started (the readiness signal).</summary>
    public Task<int> Started => _started.Task;

    /// <summary>True while the daemon runs and neither its pipeline nor its command path has failed (the watchdog's check).</summary>
    public bool Healthy => _healthy?.Invoke() ?? false;

    public async Task<int> RunAsync(CancellationToken stopping)
    {
        // Sources first: a busy port or a missing device fails here, before anything else starts.
        List<IEventSource> sources;
        try
        {
            sources = SourceFactory.Create(_options, _loggers);
        }
        catch (ConfigurationException e)
        {
            _logger.LogError("bad configuration: {Message}", e.Message);
            return 2;
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            _logger.LogError("cannot start: {Message}", e.Message);
            return 1;
        }

        sources.AddRange(ExtraSources);
        var heartbeat = _options.Heartbeat.Enabled ? new HeartbeatSource(_options.Heartbeat) : null;
        if (heartbeat is not null)
        {
            sources.Add(heartbeat);
        }

        SegmentLog? spool = null;
        if (_options.Spool.Mode != SpoolMode.Off)
        {
            var directory = _options.Spool.ResolvedDirectory;
            try
            {
                spool = SegmentLog.Open(directory, _options.Spool.MaxBytes, _options.Spool.EffectiveSegmentBytes, _options.Spool.Fsync, _options.Spool.FsyncIntervalMs);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _logger.LogError("cannot open the spool at {Directory}: {Message} (set --spool-dir, or Spool:Mode=off)", directory, e.Message);
                foreach (var source in sources.OfType<IDisposable>())
                {
                    source.Dispose();
                }

                return 1;
            }

            _logger.LogInformation("spool ({Mode}) at {Directory}: {Records} records ({Bytes} bytes) waiting from an earlier run", _options.Spool.Mode, directory, spool.Records, spool.Bytes);
        }

        using var spoolLog = spool;
        EmbeddedBroker? broker = null;
        var bootstrap = _options.Kafka.Bootstrap;
        if (string.IsNullOrWhiteSpace(bootstrap))
        {
            broker = EmbeddedBroker.Start(_options.Kafka.EmbeddedBrokers);
            bootstrap = broker.BootstrapServers;
            _logger.LogInformation("no Kafka configured: started the embedded broker ({Brokers} broker(s)) at {Bootstrap}", broker.BrokerCount, bootstrap);
        }

        await _stdout.WriteLineAsync($"bootstrap={bootstrap}").ConfigureAwait(false);
        await _stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);

        if (sources.Count == 0)
        {
            _logger.LogWarning("no sources are enabled: nothing will be published");
        }

        var kafkaLog = _loggers.CreateLogger("kafka");
        using var sink = new KafkaRecordSink(
            // With the spool, message.timeout.ms is enforced by the spool's sender, all records at once (per-source order).
            new KafkaProducerOptions { BootstrapServers = bootstrap, Properties = _options.Kafka.Properties, OrderedTimeouts = spool is not null },
            line => kafkaLog.LogWarning("{Line}", line));
        var publisher = new KafkaRecordPublisher(sink);
        var graph = new PipelineGraph(_options.Pipeline, _options.ResolvedHostId, sources, publisher, _loggers.CreateLogger("pipeline"));
        if (spool is not null)
        {
            graph.UseSpool(spool, _options.Spool);
        }
        using var metrics = new IngestMetrics { BatchSpanRatio = _options.Telemetry.BatchSpanSampleRatio };
        metrics.AddSources(graph.Stats);
        metrics.AddSink(sink.Counters, () => graph.SinkQueueDepth);
        if (graph.Spool is { } spoolSender)
        {
            metrics.AddSpool(spoolSender.Snapshot);
        }

        foreach (var ring in sources.OfType<Ingest.Transports.Ring.RingSource>())
        {
            metrics.AddRingLag(ring.Channel, ring.Name, () => ring.Lag);
        }

        graph.Observe(metrics);
        Metrics = metrics;
        Snapshot = () => Capture(graph, publisher, bootstrap, metrics);
        if (heartbeat is not null)
        {
            heartbeat.Stats = TickSnapshot;
            if (graph.Spool is { } spooled)
            {
                heartbeat.Spool = () => spooled.Snapshot() is { } s ? new SpoolBacklog(s.Records, s.Bytes) : null;
            }
        }

        using var telemetry = TelemetryExport.Start(_options.Telemetry, _options.ResolvedHostId);
        if (telemetry is not null)
        {
            _logger.LogInformation("exporting {Exports}", telemetry.Description);
        }

        var socketPath = string.IsNullOrWhiteSpace(_options.Stats.ControlSocket) ? Path.Combine(_options.ResolvedRuntimeDirectory, "control.sock") : _options.Stats.ControlSocket;
        ControlSocket? control = null;
        try
        {
            control = ControlSocket.Start(socketPath, Snapshot, _logger);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            _logger.LogWarning("control socket {Path} unavailable ({Message}); `ingest stats` will not reach this daemon", socketPath, e.Message);
        }

        CommandDispatcher? commands = null;
        var exitCode = 0;
        try
        {
            if (_options.Commands.Enabled)
            {
                // Only a configuration error stops the daemon here; a fault of the command path
                // (key file, replay store, disk, reader) disables the path alone (see its stats).
                try
                {
                    commands = CommandDispatcher.Start(bootstrap, _options.ResolvedHostId, _options.Commands, _options.Kafka.Properties, _loggers.CreateLogger("commands"), embeddedBroker: broker is not null);
                }
                catch (ConfigurationException e)
                {
                    _logger.LogError("bad configuration: {Message}", e.Message);
                    return 2;
                }

                Commands = commands.Stats;
                metrics.AddCommands(commands.Stats);
                if (heartbeat is not null)
                {
                    var running = commands;
                    heartbeat.CommandState = running.Stats.Describe;
                    heartbeat.LastCommand = () => running.Stats.Last;
                }
            }

            graph.Start();
            _logger.LogInformation("running {Count} source(s) for host {Host}: {Sources}", sources.Count, _options.ResolvedHostId, string.Join(", ", sources.Select(s => $"{s.Channel}/{s.Name}")));
            var commandCompletion = commands?.Completion;
            _healthy = () => !stopping.IsCancellationRequested && !graph.Faulted.IsCompleted && commandCompletion is not { IsFaulted: true };
            _started.TrySetResult(sources.Count);
            ReleaseStartupGarbage();
            exitCode = await WaitAsync(graph, commands?.Completion, stopping).ConfigureAwait(false);
        }
        finally
        {
            _healthy = null;
            _logger.LogInformation("stopping: flushing in-flight batches (up to {Timeout} s)", _options.ShutdownTimeoutSeconds);
            if (commands is not null)
            {
                await commands.DisposeAsync().ConfigureAwait(false);
            }

            await graph.StopAsync(TimeSpan.FromSeconds(_options.ShutdownTimeoutSeconds)).ConfigureAwait(false);
            await _stdout.WriteLineAsync(StatsFormatter.Line(Snapshot())).ConfigureAwait(false);
            await WriteFinalAccountingAsync(graph).ConfigureAwait(false);
            await _stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            if (control is not null)
            {
                await control.DisposeAsync().ConfigureAwait(false);
            }

            await graph.DisposeAsync().ConfigureAwait(false);
            foreach (var source in sources.OfType<IDisposable>())
            {
                source.Dispose();
            }

            publisher.Dispose();
            broker?.Dispose();
        }

        return exitCode;
    }

    /// <summary>
    /// Collects once, compacting and giving memory back, when everything has started. Startup
    /// leaves megabytes of garbage behind (Confluent.Kafka binds librdkafka's functions by
    /// reflection: tens of thousands of method-name strings), and an idle daemon allocates too
    /// little to reach the gen0 budget, so without this it would keep them, resident, for good
    /// (about 11 MB of the idle RSS, `make bench BENCH=idle`). Off the startup path: the UDP
    /// socket is already bound, and the pause is a few milliseconds.
    /// </summary>
    private static void ReleaseStartupGarbage() =>
        _ = Task.Run(static () => GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true));

    /// <summary>
    /// One line per source once every record has its outcome: the exit check of
    /// received = delivered + dropped + in_flight + spooled (in_flight is 0 by then). A source
    /// whose figures do not add up is logged as an error.
    /// </summary>
    private async Task WriteFinalAccountingAsync(PipelineGraph graph)
    {
        foreach (var stats in graph.Stats)
        {
            var f = stats.Read();
            var reasons = string.Join(' ', Enum.GetValues<DropReason>().Select(r => $"{r.Name()}={f.Dropped(r)}"));
            await _stdout.WriteLineAsync($"final {stats.Channel}/{stats.Name}: received={f.Received} delivered={f.Delivered} dropped={f.DroppedTotal} in_flight={f.InFlight} spooled={f.Spooled} rewinds={f.Rewinds} unaccounted={f.Unaccounted} ({reasons})").ConfigureAwait(false);
            if (f.Unaccounted != 0 || f.InFlight != 0)
            {
                _logger.LogError("{Channel}/{Source}: at exit received={Received} is not delivered={Delivered} + dropped={Dropped} + spooled={Spooled} with nothing in flight (in_flight={InFlight})", stats.Channel, stats.Name, f.Received, f.Delivered, f.DroppedTotal, f.Spooled, f.InFlight);
            }
        }

        await _stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private async Task<int> WaitAsync(PipelineGraph graph, Task? commands, CancellationToken stopping)
    {
        var commandsFaulted = commands?.ContinueWith(static t => { }, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default) ?? Task.Delay(Timeout.Infinite, stopping);
        // Aligned: the stats line shares its wake-up with the heartbeat and the /proc scrapes.
        var timer = _options.Stats.IntervalSeconds > 0 ? new AlignedTimer(TimeSpan.FromSeconds(_options.Stats.IntervalSeconds)) : null;
        var stopped = Task.Delay(Timeout.Infinite, stopping);
        while (true)
        {
            var tick = timer is null ? stopped : timer.WaitForNextTickAsync(stopping).AsTask();
            var done = await Task.WhenAny(stopped, graph.Faulted, commandsFaulted, tick).ConfigureAwait(false);
            if (done == commandsFaulted && commands is { IsFaulted: true })
            {
                _logger.LogError("command path failed: {Message}", commands.Exception?.InnerException?.Message);
                return 1;
            }

            if (done == graph.Faulted)
            {
                _logger.LogError("{Message}", graph.Faulted.Exception?.InnerException?.Message);
                return 1;
            }

            if (stopping.IsCancellationRequested)
            {
                return 0;
            }

            await _stdout.WriteLineAsync(StatsFormatter.Line(TickSnapshot())).ConfigureAwait(false);
            await _stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The figures for a periodic reader, the heartbeat or the stats line: they tick together
    /// (<see cref="AlignedTimer"/>), so a capture less than <see cref="TickSnapshotAge"/> old
    /// serves the second one instead of reading everything again. `ingest stats` always captures anew.
    /// </summary>
    private StatsSnapshot TickSnapshot()
    {
        lock (_tickGate)
        {
            if (_tickSnapshot is null || Stopwatch.GetElapsedTime(_tickSnapshotAt) > TickSnapshotAge)
            {
                _tickSnapshot = Snapshot!();
                _tickSnapshotAt = Stopwatch.GetTimestamp();
            }

            return _tickSnapshot;
        }
    }

    private StatsSnapshot Capture(PipelineGraph graph, KafkaRecordPublisher publisher, string bootstrap, IngestMetrics metrics)
    {
        var c = publisher.Sink.Counters;
        return new StatsSnapshot
        {
            Host = _options.ResolvedHostId,
            Bootstrap = bootstrap,
            UptimeSeconds = _uptime.Elapsed.TotalSeconds,
            SinkQueue = graph.SinkQueueDepth,
            InFlight = publisher.InFlight,
            Sink = c.Snapshot().ToDictionary(StringComparer.Ordinal),
            Sources = graph.Stats.Select(StatsSnapshot.Capture).ToList(),
            DeliveryLatency = metrics.DeliveryLatency.Snapshot(),
            Commands = Commands?.Snapshot().ToDictionary(StringComparer.Ordinal),
            CommandPath = Commands?.Describe(),
            RingLag = metrics.RingLags(),
            Spool = graph.Spool?.Snapshot(),
        };
    }
}
