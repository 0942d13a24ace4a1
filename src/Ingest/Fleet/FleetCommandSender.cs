using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using Ingest.Commands;
using Ingest.Sinks.Kafka;

namespace Ingest.Fleet;

/// <summary>
/// One command to many hosts: signs one request per host (the host is inside the signed body),
/// publishes them with at most <see cref="Parallelism"/> hosts awaiting their result at a time,
/// and collects each host's result through one reader of the results topic (not one per host),
/// positioned at the topic's end before anything is published so no answer can be missed.
/// Only results that <see cref="Verify"/> accepts count; others are reported and waited past.
/// </summary>
public sealed class FleetCommandSender : IDisposable
{
    private readonly string _bootstrap;
    private readonly CommandSigner _signer;
    private readonly KafkaRecordSink _sink;

    /// <param name="bootstrap">Kafka bootstrap servers.</param>
    /// <param name="signer">Signs every host's request.</param>
    /// <param name="verify">
    /// Returns the result a record of the results topic carries for <c>host</c> when it verifies
    /// as that host's, else null and why.
    /// </param>
    /// <param name="producerProperties">librdkafka overrides for the producer and the reader.</param>
    public FleetCommandSender(string bootstrap, CommandSigner signer, Func<string, byte[], (CommandResult? Result, string? Error)> verify, IReadOnlyDictionary<string, string>? producerProperties = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(bootstrap);
        _bootstrap = bootstrap;
        _signer = signer ?? throw new ArgumentNullException(nameof(signer));
        Verify = verify ?? throw new ArgumentNullException(nameof(verify));
        Properties = producerProperties;
        var properties = new Dictionary<string, string>(StringComparer.Ordinal) { ["linger.ms"] = "5" };
        if (producerProperties is not null)
        {
            foreach (var (name, value) in producerProperties)
            {
                properties[name] = value;
            }
        }

        _sink = new KafkaRecordSink(new KafkaProducerOptions { BootstrapServers = bootstrap, Properties = properties }, _ => { });
    }

    public Func<string, byte[], (CommandResult? Result, string? Error)> Verify { get; }

    public IReadOnlyDictionary<string, string>? Properties { get; }

    public string CommandsTopic { get; init; } = CommandTopics.Commands;

    public string ResultsTopic { get; init; } = CommandTopics.Results;

    /// <summary>Hosts whose command is published and unanswered at most at once.</summary>
    public int Parallelism { get; init; } = 64;

    /// <summary>Told of results that are not counted (unverifiable, or a refusal that only claims the id).</summary>
    public Action<string>? Unverifiable { get; set; }

    /// <summary>Told of conditions worth a line on stderr that do not decide an outcome (the results reader retrying).</summary>
    public Action<string>? Notice { get; set; }

    /// <summary>
    /// Sends <paramref name="requestFor"/>(host) to every host and returns one outcome per host,
    /// in the order of <paramref name="hosts"/>. <paramref name="onOutcome"/> is called as each
    /// host finishes (from several threads, one call at a time). Never throws once sending began
    /// (only for <paramref name="cancellationToken"/>): a host whose result cannot be waited for
    /// any more (the results reader failed) gets a failed outcome that says why, at once.
    /// </summary>
    public async Task<IReadOnlyList<FleetOutcome>> SendAsync(IReadOnlyList<string> hosts, Func<string, CommandRequest> requestFor, TimeSpan timeout, Action<FleetOutcome>? onOutcome = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        ArgumentNullException.ThrowIfNull(requestFor);
        var pending = new ConcurrentDictionary<string, Pending>(StringComparer.Ordinal);
        var readerFailed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var reader = new KafkaRecentReader(_bootstrap, ResultsTopic, since: null, ReaderProperties());
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // Positions the reader before the first command goes out (or notes that the topic does
        // not exist yet, in which case it is read from its beginning once it does).
        try
        {
            reader.Read(TimeSpan.FromMilliseconds(100));
        }
        catch (KafkaException e)
        {
            Notice?.Invoke($"results reader: {e.Message} (retrying)");
        }

        var readLoop = Task.Factory.StartNew(() => ReadResults(reader, pending, readerFailed, stopReading.Token), stopReading.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        var outcomes = new FleetOutcome[hosts.Count];
        var gate = new SemaphoreSlim(Math.Max(1, Parallelism));
        var report = new object();
        var tasks = new List<Task>(hosts.Count);
        try
        {
            for (var i = 0; i < hosts.Count; i++)
            {
                var index = i;
                var host = hosts[i];
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                tasks.Add(Task.Run(
                    async () =>
                    {
                        try
                        {
                            var outcome = await SendOneAsync(host, requestFor, timeout, pending, readerFailed.Task, cancellationToken).ConfigureAwait(false);
                            outcomes[index] = outcome;
                            lock (report)
                            {
                                onOutcome?.Invoke(outcome);
                            }
                        }
                        finally
                        {
                            gate.Release();
                        }
                    },
                    CancellationToken.None));
            }

            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        finally
        {
            // The gate is not disposed: on cancellation, hosts still in flight release it later.
            await stopReading.CancelAsync().ConfigureAwait(false);
            await readLoop.ConfigureAwait(false);
        }

        return outcomes;
    }

    public void Dispose() => _sink.Dispose();

    private async Task<FleetOutcome> SendOneAsync(string host, Func<string, CommandRequest> requestFor, TimeSpan timeout, ConcurrentDictionary<string, Pending> pending, Task<string> readerFailed, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        CommandRequest request;
        byte[] value;
        try
        {
            request = requestFor(host);
            value = _signer.Sign(request);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new FleetOutcome(host, null, clock.Elapsed, $"cannot sign the command: {e.Message}");
        }

        var waiting = new Pending(request.Id);
        pending[host] = waiting;

        // The timeout bounds the whole wait, the delivery report included: librdkafka would
        // otherwise retry an unreachable broker for message.timeout.ms (5 minutes).
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var delivery = DeliveryWaiter.ProduceAsync(_sink, CommandsTopic, System.Text.Encoding.UTF8.GetBytes(host), value, deadline.Token);
            var first = await Task.WhenAny(delivery, readerFailed).ConfigureAwait(false);
            if (first == readerFailed)
            {
                return new FleetOutcome(host, null, clock.Elapsed, await readerFailed.ConfigureAwait(false));
            }

            DeliveryOutcome delivered;
            try
            {
                delivered = await delivery.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return new FleetOutcome(host, null, clock.Elapsed) { Detail = $"not acknowledged by {CommandsTopic} within {timeout.TotalSeconds:0.#} s" };
            }

            if (!delivered.Delivered)
            {
                return new FleetOutcome(host, null, clock.Elapsed, $"not delivered to {CommandsTopic}: {delivered.Error}");
            }

            var answer = await Task.WhenAny(waiting.Result.Task, readerFailed, Task.Delay(Timeout.InfiniteTimeSpan, deadline.Token)).ConfigureAwait(false);
            if (answer == waiting.Result.Task)
            {
                return new FleetOutcome(host, await waiting.Result.Task.ConfigureAwait(false), clock.Elapsed);
            }

            if (answer == readerFailed)
            {
                return new FleetOutcome(host, null, clock.Elapsed, await readerFailed.ConfigureAwait(false));
            }

            cancellationToken.ThrowIfCancellationRequested();
            return new FleetOutcome(host, null, clock.Elapsed);
        }
        finally
        {
            pending.TryRemove(host, out _);
            await deadline.CancelAsync().ConfigureAwait(false); // ends the deadline's delay task
        }
    }

    /// <summary>
    /// Reads the results topic until stopped. Broker trouble is retried (and told to
    /// <see cref="Notice"/>); anything else ends the reader and fails every host still waiting
    /// through <paramref name="failed"/>, with the reason, rather than leaving them to time out.
    /// </summary>
    private void ReadResults(KafkaRecentReader reader, ConcurrentDictionary<string, Pending> pending, TaskCompletionSource<string> failed, CancellationToken stop)
    {
        try
        {
            var retries = 0;
            var toldAssign = false;
            while (!stop.IsCancellationRequested)
            {
                KafkaRecord? record;
                try
                {
                    record = reader.Read(TimeSpan.FromMilliseconds(100));
                    retries = 0;
                }
                catch (KafkaException e) when (!e.Error.IsFatal)
                {
                    if (retries++ == 0)
                    {
                        Notice?.Invoke($"results reader: {e.Message} (retrying)");
                    }

                    stop.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(200));
                    continue;
                }

                if (record is null)
                {
                    if (!toldAssign && !reader.Assigned && reader.LastAssignError is { } why)
                    {
                        toldAssign = true;
                        Notice?.Invoke($"results reader: cannot position on {ResultsTopic} yet: {why} (retrying)");
                    }

                    continue;
                }

                if (record.Key is null)
                {
                    continue;
                }

                var host = System.Text.Encoding.UTF8.GetString(record.Key);
                if (!pending.TryGetValue(host, out var waiting))
                {
                    continue;
                }

                var (result, error) = Verify(host, record.Value);
                if (result is null)
                {
                    Unverifiable?.Invoke($"ignored an unverifiable result from {host} at {record.Topic}[{record.Partition}]@{record.Offset}: {error}");
                    continue;
                }

                if (result.Id == waiting.Id && result.Host == host)
                {
                    waiting.Result.TrySetResult(result);
                }
            }
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            failed.TrySetResult($"the results reader of {ResultsTopic} failed: {e.GetType().Name}: {e.Message}");
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // Stopping: every host has its outcome already.
        }
    }

    /// <summary>The producer overrides that also concern a consumer (the cluster's security settings).</summary>
    private Dictionary<string, string>? ReaderProperties()
    {
        if (Properties is null)
        {
            return null;
        }

        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in Properties)
        {
            if (name.StartsWith("security.", StringComparison.Ordinal) || name.StartsWith("ssl.", StringComparison.Ordinal)
                || name.StartsWith("sasl.", StringComparison.Ordinal) || name == "client.id")
            {
                properties[name] = value;
            }
        }

        return properties;
    }

    private sealed class Pending(string id)
    {
        public string Id { get; } = id;

        public TaskCompletionSource<CommandResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
