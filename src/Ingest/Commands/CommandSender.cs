using System.Diagnostics;
using Confluent.Kafka;
using Ingest.Sinks.Commands;
using Ingest.Sinks.Kafka;

namespace Ingest.Commands;

/// <summary>
/// The operator side (<c>ingest send</c>, tests, benchmarks): signs a command, publishes it keyed
/// by the target host, and waits for that host's result with the same id, signed with that
/// host's key. Results that do not verify (anyone who can write kernel.command-results can
/// write them) are reported through <see cref="Unverifiable"/> and waited past. The result
/// reader is positioned at the results partition's end before the command is published, so the
/// answer cannot be missed.
/// </summary>
public sealed class CommandSender : IDisposable
{
    private readonly string _bootstrap;
    private readonly CommandSigner? _signer;
    private readonly HostKeys? _hostKeys;
    private readonly KafkaRecordSink _sink;
    private readonly Dictionary<string, KeyedPartitionReader> _readers = new(StringComparer.Ordinal);

    /// <param name="bootstrap">Kafka bootstrap servers.</param>
    /// <param name="signer">Signs requests; null when only raw records are sent (tests).</param>
    /// <param name="hostKeys">Hosts' result-signing public keys; null = no result ever verifies (nothing is matched).</param>
    /// <param name="producerProperties">librdkafka producer overrides (e.g. message.max.bytes, TLS settings).</param>
    public CommandSender(string bootstrap, CommandSigner? signer, HostKeys? hostKeys, IReadOnlyDictionary<string, string>? producerProperties = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(bootstrap);
        _bootstrap = bootstrap;
        _signer = signer;
        _hostKeys = hostKeys;
        _consumerProperties = producerProperties;
        var properties = new Dictionary<string, string>(StringComparer.Ordinal) { ["linger.ms"] = "0" };
        if (producerProperties is not null)
        {
            foreach (var (name, value) in producerProperties)
            {
                properties[name] = value;
            }
        }

        _sink = new KafkaRecordSink(new KafkaProducerOptions { BootstrapServers = bootstrap, Properties = properties }, _ => { });
    }

    private readonly IReadOnlyDictionary<string, string>? _consumerProperties;

    public string CommandsTopic { get; init; } = CommandTopics.Commands;

    /// <summary>
    /// Called for each result from the addressed host that is not counted: it does not verify
    /// (forged, wrong key, malformed), or it is a verified <c>invalid</c> that only claims an id.
    /// </summary>
    public Action<string>? Unverifiable { get; set; }

    /// <summary>Results seen and not counted since this sender was made.</summary>
    public int UnverifiableCount { get; private set; }

    public string ResultsTopic { get; init; } = CommandTopics.Results;

    /// <summary>Signs and sends <paramref name="request"/>; returns its result, or null on timeout.</summary>
    public async Task<CommandResult?> SendAsync(CommandRequest request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_signer is null)
        {
            throw new InvalidOperationException("this sender has no signing key");
        }

        byte[] value = _signer.Sign(request);
        string id = request.Id;
        return await SendRawAsync(request.Host, value, r => r.Id == id, timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Publishes <paramref name="value"/> as is with key <paramref name="host"/> and returns the
    /// first result verified with that host's key and satisfying <paramref name="match"/>, or
    /// null on timeout.
    /// </summary>
    /// <exception cref="InvalidOperationException">The record was not delivered.</exception>
    public async Task<CommandResult?> SendRawAsync(string host, byte[] value, Func<CommandResult, bool> match, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = Stopwatch.StartNew();
        await PublishRawAsync(host, value, timeout, cancellationToken).ConfigureAwait(false);
        return await WaitForResultAsync(host, match, timeout - deadline.Elapsed, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Publishes <paramref name="value"/> as is with key <paramref name="host"/>, after placing
    /// the host's result reader (the first time) so no later answer can be missed.
    /// </summary>
    /// <exception cref="InvalidOperationException">The record was not delivered.</exception>
    public async Task PublishRawAsync(string host, byte[] value, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentNullException.ThrowIfNull(value);
        _ = ResultsReader(host, timeout, cancellationToken);
        DeliveryOutcome outcome = await DeliveryWaiter.ProduceAsync(_sink, CommandsTopic, System.Text.Encoding.UTF8.GetBytes(host), value, cancellationToken).ConfigureAwait(false);
        if (!outcome.Delivered)
        {
            throw new InvalidOperationException($"command not delivered to {CommandsTopic}: {outcome.Error}");
        }
    }

    /// <summary>
    /// The next result from <paramref name="host"/> (after those already read) that verifies with
    /// its key and satisfies <paramref name="match"/>; null on timeout.
    /// </summary>
    public Task<CommandResult?> WaitForResultAsync(string host, Func<CommandResult, bool> match, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentNullException.ThrowIfNull(match);
        var deadline = Stopwatch.StartNew();
        KeyedPartitionReader reader = ResultsReader(host, timeout, cancellationToken);
        byte[] hostKey = System.Text.Encoding.UTF8.GetBytes(host);
        return Task.Run(
            () =>
            {
                while (deadline.Elapsed < timeout)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    KafkaRecord? record;
                    try
                    {
                        record = reader.Read(TimeSpan.FromMilliseconds(100));
                    }
                    catch (ConsumeException)
                    {
                        continue;
                    }

                    if (record is null || record.Key is null || !record.Key.AsSpan().SequenceEqual(hostKey))
                    {
                        continue;
                    }

                    CommandResult? result = null;
                    string? error = "no host key to verify with";
                    if (_hostKeys is null || !_hostKeys.TryVerify(host, record.Value, out result, out error))
                    {
                        UnverifiableCount++;
                        Unverifiable?.Invoke($"ignored an unverifiable result at offset {record.Offset}: {error}");
                        continue;
                    }

                    if (match(result!))
                    {
                        return result;
                    }

                    if (result!.Status == CommandStatus.Invalid && result.ClaimedId is not null)
                    {
                        // Never matched: the id is only what the refused record claimed.
                        Unverifiable?.Invoke($"host {host} refused a record claiming id {result.ClaimedId}: {result}");
                    }
                }

                return null;
            },
            cancellationToken);
    }

    public void Dispose()
    {
        foreach (KeyedPartitionReader reader in _readers.Values)
        {
            reader.Dispose();
        }

        _readers.Clear();
        _sink.Dispose();
    }

    private KeyedPartitionReader ResultsReader(string host, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!_readers.TryGetValue(host, out KeyedPartitionReader? reader))
        {
            reader = KeyedPartitionReader.Open(_bootstrap, ResultsTopic, System.Text.Encoding.UTF8.GetBytes(host), KeyedPartitionStart.End, groupId: null, properties: ReaderProperties(), timeout, cancellationToken);
            _readers[host] = reader;
        }

        return reader;
    }

    /// <summary>The producer overrides that also concern a consumer (the cluster's security settings).</summary>
    private Dictionary<string, string>? ReaderProperties()
    {
        if (_consumerProperties is null)
        {
            return null;
        }

        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in _consumerProperties)
        {
            if (name.StartsWith("security.", StringComparison.Ordinal) || name.StartsWith("ssl.", StringComparison.Ordinal)
                || name.StartsWith("sasl.", StringComparison.Ordinal) || name == "client.id")
            {
                properties[name] = value;
            }
        }

        return properties;
    }
}
