using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;

namespace Ingest.Sinks.Kafka;

/// <summary>
/// Publishes byte records to Kafka through one idempotent librdkafka producer. Records are
/// enqueued without blocking; each accepted record gets exactly one <see cref="IDeliveryHandler"/>
/// call, and every outcome is counted in <see cref="Counters"/>.
/// </summary>
/// <remarks>
/// Defaults (overridable through <see cref="KafkaProducerOptions.Properties"/>): enable.idempotence=true,
/// acks=all, compression.type=lz4, linger.ms=0, batch.size=1000000, queue.buffering.max.kbytes=65536,
/// message.timeout.ms=300000. librdkafka retries while a broker is unreachable until
/// message.timeout.ms expires, then reports the record failed. Reports are served by the sink's
/// own poll thread (dotnet.producer.enable.background.poll=false), which sleeps until one arrives.
/// </remarks>
public sealed class KafkaRecordSink : IDisposable
{
    /// <summary>Upper bound on one <see cref="WaitForSpaceAsync"/> wait when no report arrives.</summary>
    public static readonly TimeSpan SpacePollInterval = TimeSpan.FromMilliseconds(50);

    private readonly IProducer<byte[], byte[]> _producer;
    private readonly Action<string>? _log;
    private readonly TimeSpan _closeTimeout;
    private readonly ConcurrentQueue<DeliveryContext> _contexts = new();
    private static readonly TimeSpan PurgeReportTimeout = TimeSpan.FromSeconds(5);

    /// <summary>queue.buffering.max.kbytes with <see cref="KafkaProducerOptions.OrderedTimeouts"/>, unless set: 16 MiB.</summary>
    public const int OrderedQueueKilobytes = 16384;

    // With ordered timeouts: every accepted record in produce order, with the ticket its context
    // had then; a head whose context has another ticket (reported, or reused) is gone.
    private readonly ConcurrentQueue<(DeliveryContext Context, long Ticket)>? _outstanding;
    private readonly long _timeoutTicks;
    private long _tickets;

    // Our own poll thread instead of Confluent.Kafka's background one, which polls every 100 ms
    // (dotnet.cancellation.delay.max.ms) whether or not anything is outstanding: 10 wake-ups/s
    // of an idle daemon. This one blocks in rd_kafka_poll until a report or an error arrives,
    // so reports are served as promptly and an idle producer costs no wake-up; Dispose ends the
    // wait with a yield of the main queue. PollWait only bounds that wait should the yield not land.
    private static readonly TimeSpan PollWait = TimeSpan.FromSeconds(10);
    private readonly Thread _poller;
    private volatile bool _stopPolling;

    private TaskCompletionSource? _spaceFreed;
    private int _disposed;
    private int _purging;

    /// <summary>Creates the producer; librdkafka connects in the background.</summary>
    /// <param name="options">Bootstrap servers and property overrides.</param>
    /// <param name="log">Receives librdkafka log lines and errors; when null they go to stderr.</param>
    public KafkaRecordSink(KafkaProducerOptions options, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        LibRdKafka.EnsureLoaded();
        _log = log;
        _closeTimeout = options.CloseTimeout;

        var config = BuildConfig(options);
        if (options.OrderedTimeouts)
        {
            var timeout = TimeSpan.FromMilliseconds(EffectiveMessageTimeoutMs(config));
            DeliveryTimeout = timeout;
            _timeoutTicks = (long)(timeout.TotalSeconds * Stopwatch.Frequency);
            _outstanding = new();
            config.Remove("delivery.timeout.ms");
            config["message.timeout.ms"] = "0";

            // The owner keeps what does not fit (the spool): a smaller local queue bounds memory.
            if (!options.Properties.ContainsKey("queue.buffering.max.kbytes"))
            {
                config["queue.buffering.max.kbytes"] = OrderedQueueKilobytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        var builder = new ProducerBuilder<byte[], byte[]>(config)
            .SetErrorHandler(OnError);
        if (log is not null)
        {
            builder.SetLogHandler((_, m) => log($"librdkafka {m.Level} {m.Facility}: {m.Message}"));
        }

        _producer = builder.Build();
        _poller = new Thread(PollLoop) { IsBackground = true, Name = "kafka-poll" };
        _poller.Start();
    }

    /// <summary>Produced, delivered, failed, queue_full, broker_errors, in_flight, ...</summary>
    public SinkCounters Counters { get; } = new();

    /// <summary>
    /// With <see cref="KafkaProducerOptions.OrderedTimeouts"/>: the configured
    /// <c>message.timeout.ms</c> (or its alias <c>delivery.timeout.ms</c>) that
    /// <see cref="HasOverdue"/> measures against; null when librdkafka enforces it itself.
    /// </summary>
    public TimeSpan? DeliveryTimeout { get; }

    /// <summary>
    /// With <see cref="KafkaProducerOptions.OrderedTimeouts"/>: true when the oldest record not yet
    /// reported was accepted more than <see cref="DeliveryTimeout"/> ago. Always false otherwise.
    /// Call it from one thread at a time (the owner's loop).
    /// </summary>
    public bool HasOverdue => TryPeekOldest(out var started) && Stopwatch.GetTimestamp() - started > _timeoutTicks;

    /// <summary>
    /// How long until <see cref="HasOverdue"/> turns true unless reports come first (zero when it
    /// is already); <see cref="Timeout.InfiniteTimeSpan"/> when nothing outstanding can, or
    /// without <see cref="KafkaProducerOptions.OrderedTimeouts"/>. Same thread rule as <see cref="HasOverdue"/>.
    /// </summary>
    public TimeSpan UntilOverdue => TryPeekOldest(out var started)
        ? TimeSpan.FromSeconds(Math.Max(0, started + _timeoutTicks - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency)
        : Timeout.InfiniteTimeSpan;

    /// <summary>The start of the oldest record not yet reported, with <see cref="KafkaProducerOptions.OrderedTimeouts"/>; entries already reported are dropped on the way.</summary>
    private bool TryPeekOldest(out long startTimestamp)
    {
        while (_outstanding is not null && _outstanding.TryPeek(out var head))
        {
            if (Volatile.Read(ref head.Context.Ticket) != head.Ticket)
            {
                _outstanding.TryDequeue(out _);
                continue;
            }

            startTimestamp = head.Context.StartTimestamp;
            return true;
        }

        startTimestamp = 0;
        return false;
    }

    /// <summary>The <c>message.timeout.ms</c> a configuration sets (its alias included), or librdkafka's default of 300000.</summary>
    public static long EffectiveMessageTimeoutMs(IReadOnlyDictionary<string, string> config)
    {
        ArgumentNullException.ThrowIfNull(config);
        foreach (var name in (ReadOnlySpan<string>)["message.timeout.ms", "delivery.timeout.ms"])
        {
            if (config.TryGetValue(name, out var text) && long.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var ms) && ms > 0)
            {
                return ms;
            }
        }

        return 300_000;
    }

    /// <summary>The librdkafka properties the producer was built with (defaults plus overrides).</summary>
    public static Dictionary<string, string> BuildConfig(KafkaProducerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["bootstrap.servers"] = options.BootstrapServers,
            ["enable.idempotence"] = "true",
            ["acks"] = "all",
            ["compression.type"] = "lz4",
            // A record is already a batch (the pipeline's Batcher lingers); a second linger here only
            // adds latency. Under load records still share requests: they queue while up to five
            // requests are in flight (idempotence), and librdkafka sends what queued in one request.
            ["linger.ms"] = "0",
            ["batch.size"] = "1000000",
            ["queue.buffering.max.kbytes"] = "65536",
            ["message.timeout.ms"] = "300000",
            // Partition, offset and error are always reported; skip copying key/value/headers back.
            [ConfigPropertyNames.Producer.DeliveryReportFields] = "status",
            // The sink serves reports from its own blocking poll thread (see PollLoop).
            [ConfigPropertyNames.Producer.EnableBackgroundPoll] = "false",
        };
        foreach (var (name, value) in options.Properties)
        {
            config[name] = value;
        }

        return config;
    }

    /// <summary>
    /// Enqueues one record. Returns false, without throwing, when librdkafka's local queue is full
    /// (queue.buffering.max.messages/kbytes); the caller then waits with
    /// <see cref="WaitForSpaceAsync"/> or drops and counts. On true, <paramref name="handler"/> is
    /// called exactly once with <paramref name="state"/>.
    /// </summary>
    /// <exception cref="ProduceException{TKey, TValue}">Invalid input, e.g. a record larger than message.max.bytes.</exception>
    public bool TryProduce(
        string topic,
        byte[] key,
        byte[] value,
        IReadOnlyList<KeyValuePair<string, byte[]>> headers,
        IDeliveryHandler handler,
        object? state)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(handler);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        var message = new Message<byte[], byte[]> { Key = key, Value = value };
        if (headers.Count > 0)
        {
            var kafkaHeaders = new Headers();
            for (int i = 0; i < headers.Count; i++)
            {
                kafkaHeaders.Add(headers[i].Key, headers[i].Value);
            }

            message.Headers = kafkaHeaders;
        }

        DeliveryContext context = RentContext(handler, state);
        long ticket = context.Ticket;
        Counters.OnAccepted();
        try
        {
            _producer.Produce(topic, message, context.Callback);
            _outstanding?.Enqueue((context, ticket));
            return true;
        }
        catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
        {
            Counters.OnRejected(queueFull: true);
            ReturnContext(context);
            return false;
        }
        catch
        {
            Counters.OnRejected(queueFull: false);
            ReturnContext(context);
            throw;
        }
    }

    /// <summary>
    /// Completes when a delivery report has freed queue space, or after at most
    /// <see cref="SpacePollInterval"/>; the caller retries <see cref="TryProduce"/> either way.
    /// </summary>
    public async ValueTask WaitForSpaceAsync(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        TaskCompletionSource? signal = Volatile.Read(ref _spaceFreed);
        if (signal is null)
        {
            var fresh = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            signal = Interlocked.CompareExchange(ref _spaceFreed, fresh, null) ?? fresh;
        }

        using var delayCancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Task delay = Task.Delay(SpacePollInterval, delayCancel.Token);
        await Task.WhenAny(signal.Task, delay).ConfigureAwait(false);
        delayCancel.Cancel();
        ct.ThrowIfCancellationRequested();
    }

    /// <summary>Waits up to <paramref name="timeout"/> for in-flight records; returns how many remain.</summary>
    public int Flush(TimeSpan timeout) => _producer.Flush(timeout);

    /// <summary>
    /// Ends every record not yet acknowledged, queued and in flight alike (rd_kafka_purge), while
    /// the producer stays usable. Each gets its report soon after, as a retriable failure
    /// (<see cref="DeliveryOutcome.PossiblyPersisted"/> when its request was already on the wire:
    /// sending it again may duplicate it). Nothing produced before this call can be acknowledged
    /// after it, so no record is acknowledged behind an older one that failed.
    /// </summary>
    /// <returns>librdkafka's error code (0 = done), or -1 when the handle could not be reached.</returns>
    public int Abandon()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Counters.OnAbandon();
        int error = ProducerNative.Purge(_producer, ProducerNative.PurgeQueue | ProducerNative.PurgeInFlight);
        if (error != 0)
        {
            _log?.Invoke($"kafka sink: rd_kafka_purge failed ({error})");
        }

        return error;
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for in-flight records, then purges what is left, so
    /// that every accepted record has had its <see cref="IDeliveryHandler"/> call when this
    /// returns: a purged record is reported failed with <see cref="DeliveryOutcome.Purged"/>, and
    /// with <see cref="DeliveryOutcome.PossiblyPersisted"/> when its request was already on the
    /// wire. Nothing is decided after the caller's final figures. Returns how many were purged.
    /// </summary>
    public int FlushOrPurge(TimeSpan timeout)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        int remaining = _producer.Flush(timeout);
        if (remaining == 0)
        {
            return 0;
        }

        Volatile.Write(ref _purging, 1);
        int error = ProducerNative.Purge(_producer, ProducerNative.PurgeQueue | ProducerNative.PurgeInFlight);
        if (error != 0)
        {
            _log?.Invoke($"kafka sink: rd_kafka_purge failed ({error}); {remaining} records stay in flight until the sink closes");
            return 0;
        }

        // Purged messages' reports are served by the next poll: Flush polls until they are out.
        int left = _producer.Flush(PurgeReportTimeout);
        if (left > 0)
        {
            _log?.Invoke($"kafka sink: {left} records still unreported {PurgeReportTimeout.TotalSeconds} s after the purge");
        }

        return remaining - left;
    }

    /// <summary>
    /// Flushes for up to <see cref="KafkaProducerOptions.CloseTimeout"/>, counts what is still in
    /// flight as abandoned, then destroys the producer.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _producer.Flush(_closeTimeout);
        StopPolling();

        // What is still in flight once no report can come any more. Not Flush's return value:
        // that is rd_kafka_outq_len, which also counts events waiting to be polled (a down
        // broker's errors), so it counted records abandoned that were never produced.
        long remaining = Counters.InFlight;
        if (remaining > 0)
        {
            Counters.OnAbandoned(remaining);
            _log?.Invoke($"kafka sink closed with {remaining} records undelivered after {_closeTimeout}");
        }

        _producer.Dispose();
        Interlocked.Exchange(ref _spaceFreed, null)?.TrySetResult();
    }

    private void PollLoop()
    {
        while (!_stopPolling)
        {
            try
            {
                _producer.Poll(PollWait);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (Exception e)
            {
                // Callbacks catch their own exceptions; this is the poll itself failing.
                _log?.Invoke($"kafka sink: poll failed: {e.Message}");
                Thread.Sleep(100);
            }
        }
    }

    private void StopPolling()
    {
        _stopPolling = true;
        if (_poller.ManagedThreadId == Environment.CurrentManagedThreadId)
        {
            return;
        }

        try
        {
            ProducerNative.Yield(_producer);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException or MissingMethodException)
        {
            _log?.Invoke($"kafka sink: rd_kafka_queue_yield unavailable ({e.Message}); the poll thread ends within {PollWait.TotalSeconds} s");
        }

        if (!_poller.Join(PollWait + TimeSpan.FromSeconds(5)))
        {
            _log?.Invoke("kafka sink: the poll thread did not end");
        }
    }

    private void OnDelivery(DeliveryContext context, DeliveryReport<byte[], byte[]> report)
    {
        bool delivered = !report.Error.IsError;
        var code = report.Error.Code;
        var outcome = new DeliveryOutcome(
            delivered,
            delivered ? null : $"{code}: {report.Error.Reason}",
            report.Partition.Value,
            delivered ? report.Offset.Value : -1,
            Stopwatch.GetElapsedTime(context.StartTimestamp),
            PossiblyPersisted: !delivered && (report.Status == PersistenceStatus.PossiblyPersisted || code == ErrorCode.Local_PurgeInflight),
            Purged: (code is ErrorCode.Local_PurgeQueue or ErrorCode.Local_PurgeInflight) && Volatile.Read(ref _purging) != 0)
        {
            Retriable = !delivered && IsRetriable(report.Error),
        };
        IDeliveryHandler handler = context.Handler!;
        object? state = context.State;
        ReturnContext(context);
        Counters.OnReported(delivered);

        try
        {
            handler.OnDelivery(state, outcome);
        }
        catch (Exception e)
        {
            // The report thread belongs to librdkafka's poll loop: never let a handler kill it.
            Counters.OnHandlerError();
            _log?.Invoke($"delivery handler threw: {e}");
        }

        if (Volatile.Read(ref _spaceFreed) is not null)
        {
            Interlocked.Exchange(ref _spaceFreed, null)?.TrySetResult();
        }
    }

    /// <summary>Every failure except a fatal producer error and the few a cluster gives for a record it will never take.</summary>
    public static bool IsRetriable(Error error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return !error.IsFatal && error.Code is not (ErrorCode.MsgSizeTooLarge
            or ErrorCode.TopicAuthorizationFailed or ErrorCode.ClusterAuthorizationFailed or ErrorCode.InvalidMsg
            or ErrorCode.Local_BadMsg or ErrorCode.Local_InvalidArg or ErrorCode.TopicException or ErrorCode.RecordListTooLarge
            or ErrorCode.InvalidRequiredAcks or ErrorCode.Local_Fatal or ErrorCode.UnsupportedForMessageFormat or ErrorCode.InvalidRecord);
    }

    private void OnError(IProducer<byte[], byte[]> producer, Error error)
    {
        Counters.OnBrokerError();
        string line = $"kafka error {error.Code}{(error.IsFatal ? " (fatal)" : "")}: {error.Reason}";
        if (_log is not null)
        {
            _log(line);
        }
        else
        {
            Console.Error.WriteLine(line);
        }
    }

    private DeliveryContext RentContext(IDeliveryHandler handler, object? state)
    {
        if (!_contexts.TryDequeue(out DeliveryContext? context))
        {
            context = new DeliveryContext(this);
        }

        context.Handler = handler;
        context.State = state;
        context.StartTimestamp = Stopwatch.GetTimestamp();
        Volatile.Write(ref context.Ticket, Interlocked.Increment(ref _tickets));
        return context;
    }

    private void ReturnContext(DeliveryContext context)
    {
        context.Handler = null;
        context.State = null;
        Volatile.Write(ref context.Ticket, 0);
        _contexts.Enqueue(context);
    }

    /// <summary>
    /// Per-record delivery state, pooled so the steady state allocates no closure per record:
    /// the callback delegate is bound once to its context.
    /// </summary>
    private sealed class DeliveryContext
    {
        /// <summary>Non-zero while rented: a new number each time (see <see cref="HasOverdue"/>).</summary>
        public long Ticket;

        public DeliveryContext(KafkaRecordSink owner) => Callback = report => owner.OnDelivery(this, report);

        public Action<DeliveryReport<byte[], byte[]>> Callback { get; }

        public IDeliveryHandler? Handler { get; set; }

        public object? State { get; set; }

        public long StartTimestamp { get; set; }
    }
}
