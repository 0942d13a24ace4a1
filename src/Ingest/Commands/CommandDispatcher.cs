using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Ingest.Sinks.Commands;
using Ingest.Sinks.Kafka;
using Ingest.Transports.Effectors;
using Microsoft.Extensions.Logging;

namespace Ingest.Commands;

/// <summary>
/// The daemon's command path: reads this host's partition of kernel.commands, applies each
/// verified record with <see cref="CommandProcessor"/> one at a time in order, publishes its
/// host-signed result to kernel.command-results (keyed by host id), and only then commits. After
/// a crash between applying and committing, the record comes back and the replay store answers
/// <c>replayed</c> (or <c>unknown_outcome</c>) instead of applying it twice.
/// </summary>
/// <remarks>
/// Records refused before their signature verified cost a count: no result each (one summary
/// at most every 10 s), offsets committed in batches, one log line per 10 s. A fault of the
/// path itself (key file, replay store, full disk, reader) disables only the path: it is
/// logged with its reason, shown in <see cref="Stats"/>, and retried with backoff; the
/// daemon's events keep flowing.
/// </remarks>
public sealed class CommandDispatcher : IAsyncDisposable
{
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_commitInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_firstBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_metadataTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Commit at least every this many uncommitted unanswered records.</summary>
    private const int CommitBatch = 10_000;

    /// <summary>Consecutive read errors before the reader counts as failed.</summary>
    private const int MaxReadErrors = 25;

    private readonly string _bootstrap;
    private readonly string _hostId;
    private readonly byte[] _hostKey;
    private readonly CommandOptions _options;
    private readonly CommandPolicy _policy;
    private readonly KingestIoctlExecutor _ioctl;
    private readonly Dictionary<string, string> _kafkaProperties;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly int _fetchWaitMaxMs;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    private CommandDispatcher(string bootstrap, string hostId, CommandOptions options, CommandPolicy policy, KingestIoctlExecutor ioctl, Dictionary<string, string> kafkaProperties, ILogger logger, TimeProvider time, int fetchWaitMaxMs)
    {
        _fetchWaitMaxMs = fetchWaitMaxMs;
        _bootstrap = bootstrap;
        _hostId = hostId;
        _hostKey = System.Text.Encoding.UTF8.GetBytes(hostId);
        _options = options;
        _policy = policy;
        _ioctl = ioctl;
        _kafkaProperties = kafkaProperties;
        _logger = logger;
        _time = time;
    }

    /// <summary>Outcomes, unverified refusals, and whether the path is running or disabled (and why).</summary>
    public CommandStats Stats { get; } = new();

    /// <summary>Completes when the path is stopped; a fault never ends it (the path retries).</summary>
    public Task Completion => _loop ?? Task.CompletedTask;

    /// <summary>
    /// Compiles the allowlist and starts the path in the background. Loading keys, opening the
    /// replay store and reading happen there: their faults disable the path (see
    /// <see cref="Stats"/>), they never stop the caller.
    /// </summary>
    /// <param name="bootstrap">Kafka bootstrap servers.</param>
    /// <param name="hostId">This host's id: record key, consumer group, result host.</param>
    /// <param name="options">The Commands section.</param>
    /// <param name="kafkaProperties">Kafka:Properties (security settings); Commands:ConsumerProperties override them.</param>
    /// <param name="logger">Where the path logs.</param>
    /// <param name="time">The clock (tests).</param>
    /// <param name="embeddedBroker">The daemon started the embedded broker in-process (picks the reader's fetch wait).</param>
    /// <exception cref="ConfigurationException">The allowlist is malformed, names an unknown ioctl or covers an exec-sink sysctl.</exception>
    public static CommandDispatcher Start(
        string bootstrap,
        string hostId,
        CommandOptions options,
        IReadOnlyDictionary<string, string> kafkaProperties,
        ILogger logger,
        TimeProvider? time = null,
        bool embeddedBroker = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(bootstrap);
        ArgumentException.ThrowIfNullOrEmpty(hostId);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(kafkaProperties);
        ArgumentNullException.ThrowIfNull(logger);

        var ioctl = new KingestIoctlExecutor(options.IoctlDevice);
        CommandPolicy policy = CommandPolicy.Compile(options, ioctl.Definitions);
        var merged = CommandKafkaProperties.Merge(kafkaProperties, options.ConsumerProperties);
        var dispatcher = new CommandDispatcher(bootstrap, hostId, options, policy, ioctl, merged, logger, time ?? TimeProvider.System, options.ResolveFetchWaitMaxMs(embeddedBroker));
        dispatcher._loop = Task.Factory.StartNew(dispatcher.Supervise, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        return dispatcher;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Completion.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    /// <summary>Runs the path; on a fault, disables it, waits (1 s doubling to 60 s) and tries again.</summary>
    private void Supervise()
    {
        CancellationToken ct = _stop.Token;
        TimeSpan backoff = s_firstBackoff;
        while (!ct.IsCancellationRequested)
        {
            var ran = Stopwatch.StartNew();
            try
            {
                RunOnce(ct);
                return;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                if (ran.Elapsed > s_maxBackoff)
                {
                    backoff = s_firstBackoff;
                }

                string reason = Describe(e);
                Stats.OnDisabled(reason);
                _logger.LogError("command path disabled: {Reason}; events keep flowing; retrying in {Seconds} s", reason, backoff.TotalSeconds);
            }

            if (ct.WaitHandle.WaitOne(backoff))
            {
                return;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, s_maxBackoff.Ticks));
        }
    }

    private static string Describe(Exception e) => e switch
    {
        CommandKeyException or ReplayStoreCorruptException => e.Message,
        IOException => $"replay store or state directory: {e.Message}",
        TimeoutException => $"command reader: {e.Message}",
        KafkaException k => $"command reader: {k.Error.Reason}",
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    private void RunOnce(CancellationToken ct)
    {
        using TrustedKeys keys = TrustedKeys.Load(_options.TrustedKeys);
        using CommandSigner hostSigner = CommandSigner.Load(_options.HostKey!);
        using ReplayStore replay = ReplayStore.Open(_options.ResolvedStateDirectory, _time.GetUtcNow().ToUnixTimeMilliseconds(), _options.ResetReplayStore);
        if (replay.TornLines > 0)
        {
            _logger.LogWarning("replay store {Path}: dropped {Count} unterminated line(s) left by an interrupted write", replay.Path, replay.TornLines);
        }

        var producerProperties = new Dictionary<string, string>(_kafkaProperties, StringComparer.Ordinal)
        {
            // A result is one small record that someone is waiting for: send it at once.
            ["linger.ms"] = "0",
        };
        using var results = new KafkaRecordSink(new KafkaProducerOptions { BootstrapServers = _bootstrap, Properties = producerProperties }, line => _logger.LogWarning("{Line}", line));
        var processor = new CommandProcessor(_hostId, _options, keys, replay, _policy, new SysctlWriter(_options.SysctlRoot), _ioctl, _time, Stats);
        // The fetch wait goes under Kafka:Properties and Commands:ConsumerProperties, which may still set it.
        var readerProperties = new Dictionary<string, string>(StringComparer.Ordinal) { ["fetch.wait.max.ms"] = _fetchWaitMaxMs.ToString(CultureInfo.InvariantCulture) };
        foreach (var (name, value) in _kafkaProperties)
        {
            readerProperties[name] = value;
        }

        using KeyedPartitionReader reader = KeyedPartitionReader.Open(
            _bootstrap, _options.Topic, _hostKey, KeyedPartitionStart.Committed, $"ingest-commands-{_hostId}", readerProperties, s_metadataTimeout, ct);
        Stats.OnRunning();
        _logger.LogInformation(
            "command path: host {Host} reads {Topic} partition {Partition} of {Count} (fetch wait {FetchWait} ms), {Keys} trusted key(s) ({KeyIds}), results signed by {HostKid}, replay store {Path} ({Live} live ids)",
            _hostId, _options.Topic, reader.Partition, reader.PartitionCount, readerProperties["fetch.wait.max.ms"], keys.Count, string.Join(",", keys.KeyIds), hostSigner.KeyId, replay.Path, replay.Count);

        var loop = new Loop(this, reader, processor, hostSigner, results);
        loop.Run(ct);
    }

    /// <summary>One run of the read loop with its pending (uncommitted, unanswered) state.</summary>
    private sealed class Loop(CommandDispatcher owner, KeyedPartitionReader reader, CommandProcessor processor, CommandSigner signer, KafkaRecordSink results)
    {
        private readonly UnverifiedSummary _unverified = new();
        private readonly Stopwatch _sinceCommit = Stopwatch.StartNew();
        private long _ignoredSinceLog;
        private long _lastIgnoredLogMs = long.MinValue;
        private KafkaRecord? _uncommitted;
        private int _uncommittedCount;

        public void Run(CancellationToken ct)
        {
            int readErrors = 0;
            try
            {
                while (!ct.IsCancellationRequested)
                {
                    KafkaRecord? record;
                    try
                    {
                        record = reader.Read(s_pollInterval);
                        readErrors = 0;
                    }
                    catch (ConsumeException e)
                    {
                        if (++readErrors >= MaxReadErrors)
                        {
                            throw;
                        }

                        owner._logger.LogWarning("command path: read failed: {Reason}", e.Error.Reason);
                        continue;
                    }

                    if (record is not null)
                    {
                        Handle(record, ct);
                    }

                    Housekeep(idle: record is null, ct);
                }
            }
            finally
            {
                // Stopping or failing: what was handled is not handled again.
                TryCommit();
            }
        }

        private void Handle(KafkaRecord record, CancellationToken ct)
        {
            var span = Telemetry.IngestTracing.StartCommand(record.Partition, record.Offset);
            CommandResult? result = processor.Process(record.Key, record.Value);
            Telemetry.IngestTracing.CompleteCommand(span, result, processor.LastIgnoredReason);
            switch (processor.LastDecision)
            {
                case CommandDecision.Result when result is not null:
                    LogLevel level = result.Status is CommandStatus.Applied ? LogLevel.Information : LogLevel.Warning;
                    owner._logger.Log(level, "command at {Partition}@{Offset}: {Result}", record.Partition, record.Offset, result);
                    Publish(result, ct);
                    _uncommitted = record;
                    TryCommit();
                    return;
                case CommandDecision.Unverified:
                    _unverified.Add(processor.LastRejection, processor.LastIgnoredReason);
                    break;
                default:
                    _ignoredSinceLog++;
                    break;
            }

            _uncommitted = record;
            _uncommittedCount++;
        }

        private void Housekeep(bool idle, CancellationToken ct)
        {
            if (_uncommitted is not null && (idle || _uncommittedCount >= CommitBatch || _sinceCommit.Elapsed >= s_commitInterval))
            {
                TryCommit();
            }

            long now = owner._time.GetUtcNow().ToUnixTimeMilliseconds();
            if (_unverified.TryTake(now, out string summary))
            {
                owner._logger.LogWarning("command path: {Summary}", summary);
                Publish(new CommandResult(null, owner._hostId, CommandStatus.Invalid, summary, null, null, now), ct);
            }

            if (_ignoredSinceLog > 0 && (_lastIgnoredLogMs == long.MinValue || now - _lastIgnoredLogMs >= (long)UnverifiedSummary.Interval.TotalMilliseconds))
            {
                owner._logger.LogInformation("command path: ignored {Count} record(s) for other hosts; last: {Reason}", _ignoredSinceLog, processor.LastIgnoredReason);
                _ignoredSinceLog = 0;
                _lastIgnoredLogMs = now;
            }
        }

        private void TryCommit()
        {
            if (_uncommitted is null)
            {
                return;
            }

            try
            {
                reader.Commit(_uncommitted);
                _uncommitted = null;
                _uncommittedCount = 0;
                _sinceCommit.Restart();
            }
            catch (KafkaException e)
            {
                // The next commit covers this one; a replay after a restart is answered `replayed`.
                owner._logger.LogWarning("command path: offset commit failed: {Reason}", e.Error.Reason);
            }
        }

        private void Publish(CommandResult result, CancellationToken ct)
        {
            byte[] value = signer.Sign(result);
            while (true)
            {
                DeliveryOutcome outcome = DeliveryWaiter.ProduceAsync(results, owner._options.ResultsTopic, owner._hostKey, value, ct).GetAwaiter().GetResult();
                if (outcome.Delivered)
                {
                    return;
                }

                owner.Stats.OnPublishRetry();
                owner._logger.LogWarning("command result {Id} not delivered ({Error}); retrying", result.Id ?? result.ClaimedId ?? "-", outcome.Error);
            }
        }
    }
}
