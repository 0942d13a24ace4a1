using System.Diagnostics;
using Confluent.Kafka;
using Ingest.Sinks.Commands;
using Ingest.Sinks.Kafka;

namespace Ingest.Commands;

/// <summary>
/// The operator side (<c>ingest send</c>, tests, benchmarks): signs a command, publishes it keyed
/// by the target host, and waits for that host's result with the same id. The result reader is
/// positioned at the results partition's end before the command is published, so the answer
/// cannot be missed.
/// </summary>
public sealed class CommandSender : IDisposable
{
    private readonly string _bootstrap;
    private readonly CommandSigner? _signer;
    private readonly KafkaRecordSink _sink;
    private readonly Dictionary<string, KeyedPartitionReader> _readers = new(StringComparer.Ordinal);

    /// <param name="bootstrap">Kafka bootstrap servers.</param>
    /// <param name="signer">Signs requests; null when only raw records are sent (tests).</param>
    /// <param name="producerProperties">librdkafka producer overrides (e.g. message.max.bytes).</param>
    public CommandSender(string bootstrap, CommandSigner? signer, IReadOnlyDictionary<string, string>? producerProperties = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(bootstrap);
        _bootstrap = bootstrap;
        _signer = signer;
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

    public string CommandsTopic { get; init; } = CommandTopics.Commands;

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
    /// first result from that host satisfying <paramref name="match"/>, or null on timeout.
    /// </summary>
    /// <exception cref="InvalidOperationException">The record was not delivered.</exception>
    public async Task<CommandResult?> SendRawAsync(string host, byte[] value, Func<CommandResult, bool> match, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(match);
        var deadline = Stopwatch.StartNew();
        KeyedPartitionReader reader = ResultsReader(host, timeout, cancellationToken);

        DeliveryOutcome outcome = await DeliveryWaiter.ProduceAsync(_sink, CommandsTopic, System.Text.Encoding.UTF8.GetBytes(host), value, cancellationToken).ConfigureAwait(false);
        if (!outcome.Delivered)
        {
            throw new InvalidOperationException($"command not delivered to {CommandsTopic}: {outcome.Error}");
        }

        return await Task.Run(
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

                    if (record is null || record.Key is null || !record.Key.AsSpan().SequenceEqual(System.Text.Encoding.UTF8.GetBytes(host)))
                    {
                        continue;
                    }

                    CommandResult? result = CommandResult.TryDecode(record.Value);
                    if (result is not null && result.Host == host && match(result))
                    {
                        return result;
                    }
                }

                return null;
            },
            cancellationToken).ConfigureAwait(false);
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
            reader = KeyedPartitionReader.Open(_bootstrap, ResultsTopic, System.Text.Encoding.UTF8.GetBytes(host), KeyedPartitionStart.End, groupId: null, properties: null, timeout, cancellationToken);
            _readers[host] = reader;
        }

        return reader;
    }
}
