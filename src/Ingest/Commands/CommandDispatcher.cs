using Confluent.Kafka;
using Ingest.Sinks.Commands;
using Ingest.Sinks.Kafka;
using Ingest.Transports.Effectors;
using Microsoft.Extensions.Logging;

namespace Ingest.Commands;

/// <summary>
/// The daemon's command path: reads this host's partition of kernel.commands, applies each
/// record with <see cref="CommandProcessor"/> one at a time in order, publishes the result to
/// kernel.command-results (keyed by host id), and only then commits the record's offset. After a
/// crash between applying and committing, the record comes back and the replay store answers
/// <c>replayed</c> instead of applying it twice.
/// </summary>
public sealed class CommandDispatcher : IAsyncDisposable
{
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(200);

    private readonly string _bootstrap;
    private readonly string _hostId;
    private readonly CommandOptions _options;
    private readonly CommandProcessor _processor;
    private readonly TrustedKeys _keys;
    private readonly ReplayStore _replay;
    private readonly KafkaRecordSink _results;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    private CommandDispatcher(string bootstrap, string hostId, CommandOptions options, CommandProcessor processor, TrustedKeys keys, ReplayStore replay, KafkaRecordSink results, ILogger logger)
    {
        _bootstrap = bootstrap;
        _hostId = hostId;
        _options = options;
        _processor = processor;
        _keys = keys;
        _replay = replay;
        _results = results;
        _logger = logger;
    }

    public CommandStats Stats => _processor.Stats;

    /// <summary>Completes when the loop ends; faults if it failed.</summary>
    public Task Completion => _loop ?? Task.CompletedTask;

    /// <summary>
    /// Loads the trusted keys, opens the replay store (fails closed when it is corrupted), compiles
    /// the allowlist and starts reading.
    /// </summary>
    /// <exception cref="CommandKeyException">A trusted key file is missing, malformed or loosely permitted.</exception>
    /// <exception cref="ReplayStoreCorruptException">The replay store is corrupted and no reset was asked for.</exception>
    /// <exception cref="ConfigurationException">The allowlist names an unknown ioctl or argument.</exception>
    public static CommandDispatcher Start(
        string bootstrap,
        string hostId,
        CommandOptions options,
        IReadOnlyDictionary<string, string> producerProperties,
        ILogger logger,
        TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(bootstrap);
        ArgumentException.ThrowIfNullOrEmpty(hostId);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        time ??= TimeProvider.System;

        var ioctl = new KingestIoctlExecutor(options.IoctlDevice);
        CommandPolicy policy = CommandPolicy.Compile(options, ioctl.Definitions);
        TrustedKeys keys = TrustedKeys.Load(options.TrustedKeys);
        ReplayStore? replay = null;
        try
        {
            replay = ReplayStore.Open(options.ResolvedStateDirectory, time.GetUtcNow().ToUnixTimeMilliseconds(), options.ResetReplayStore);
            if (replay.TornLines > 0)
            {
                logger.LogWarning("replay store {Path}: dropped {Count} unterminated line(s) left by an interrupted write", replay.Path, replay.TornLines);
            }

            var properties = new Dictionary<string, string>(producerProperties, StringComparer.Ordinal)
            {
                // A result is one small record that someone is waiting for: send it at once.
                ["linger.ms"] = "0",
            };
            var results = new KafkaRecordSink(new KafkaProducerOptions { BootstrapServers = bootstrap, Properties = properties }, line => logger.LogWarning("{Line}", line));
            var processor = new CommandProcessor(hostId, options, keys, replay, policy, new SysctlWriter(options.SysctlRoot), ioctl, time);
            var dispatcher = new CommandDispatcher(bootstrap, hostId, options, processor, keys, replay, results, logger);
            dispatcher._loop = Task.Factory.StartNew(dispatcher.Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            logger.LogInformation(
                "command path: host {Host} reads {Topic}, {Keys} trusted key(s) ({KeyIds}), replay store {Path} ({Count} live ids)",
                hostId, options.Topic, keys.Count, string.Join(",", keys.KeyIds), replay.Path, replay.Count);
            return dispatcher;
        }
        catch
        {
            replay?.Dispose();
            keys.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Completion.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException)
        {
        }

        _results.Dispose();
        _replay.Dispose();
        _keys.Dispose();
        _stop.Dispose();
    }

    private void Run()
    {
        CancellationToken ct = _stop.Token;
        byte[] hostKey = System.Text.Encoding.UTF8.GetBytes(_hostId);
        KeyedPartitionReader? reader = null;
        try
        {
            while (reader is null)
            {
                try
                {
                    reader = KeyedPartitionReader.Open(_bootstrap, _options.Topic, hostKey, KeyedPartitionStart.Committed, $"ingest-commands-{_hostId}", _options.ConsumerProperties, TimeSpan.FromSeconds(30), ct);
                    _logger.LogInformation("command path: reading {Topic} partition {Partition} of {Count}", _options.Topic, reader.Partition, reader.PartitionCount);
                }
                catch (TimeoutException e)
                {
                    _logger.LogWarning("command path: {Message}; retrying", e.Message);
                }
            }

            while (!ct.IsCancellationRequested)
            {
                KafkaRecord? record;
                try
                {
                    record = reader.Read(s_pollInterval);
                }
                catch (ConsumeException e)
                {
                    _logger.LogWarning("command path: read failed: {Reason}", e.Error.Reason);
                    continue;
                }

                if (record is null)
                {
                    continue;
                }

                Handle(reader, record, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            reader?.Dispose();
        }
    }

    private void Handle(KeyedPartitionReader reader, KafkaRecord record, CancellationToken ct)
    {
        var span = Telemetry.IngestTracing.StartCommand(record.Partition, record.Offset);
        CommandResult? result = _processor.Process(record.Key, record.Value);
        if (result is null)
        {
            _logger.LogInformation("command at {Partition}@{Offset} ignored: {Reason}", record.Partition, record.Offset, _processor.LastIgnoredReason);
        }
        else
        {
            LogResult(result, record);
            Publish(result, ct);
        }

        // The span ends once the result is published: receipt to result, as the operator sees it.
        Telemetry.IngestTracing.CompleteCommand(span, result, _processor.LastIgnoredReason);

        try
        {
            reader.Commit(record);
        }
        catch (KafkaException e)
        {
            // The next commit covers this one; a replay after a restart is answered `replayed`.
            _logger.LogWarning("command path: offset commit failed: {Reason}", e.Error.Reason);
        }
    }

    private void Publish(CommandResult result, CancellationToken ct)
    {
        byte[] key = System.Text.Encoding.UTF8.GetBytes(_hostId);
        byte[] value = result.Encode();
        while (true)
        {
            DeliveryOutcome outcome = DeliveryWaiter.ProduceAsync(_results, _options.ResultsTopic, key, value, ct).GetAwaiter().GetResult();
            if (outcome.Delivered)
            {
                return;
            }

            Stats.OnPublishRetry();
            _logger.LogWarning("command result {Id} not delivered ({Error}); retrying", result.Id, outcome.Error);
        }
    }

    private void LogResult(CommandResult result, KafkaRecord record)
    {
        LogLevel level = result.Status is CommandStatus.Applied ? LogLevel.Information : LogLevel.Warning;
        _logger.Log(level, "command at {Partition}@{Offset}: {Result}", record.Partition, record.Offset, result);
    }
}
