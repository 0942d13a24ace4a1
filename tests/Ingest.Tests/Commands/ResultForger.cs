using Ingest.Commands;
using Ingest.Sinks.Commands;
using Ingest.Sinks.Kafka;

namespace Ingest.Tests.Commands;

/// <summary>
/// What any writer of kernel.command-results can do (every sensor host can): watch
/// kernel.commands for a host and answer each command at once with forged <c>applied</c>
/// results: the old unsigned form, an envelope signed by a rogue key naming the host, and one
/// under the host's real key id with a signature that does not verify.
/// </summary>
internal sealed class ResultForger : IDisposable
{
    private readonly KeyedPartitionReader _commands;
    private readonly KafkaRecordSink _results;
    private readonly CommandSigner _rogue;
    private readonly string _host;
    private readonly string _hostKeyId;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _forged;

    private ResultForger(string bootstrap, string host, CommandSigner rogue, string hostKeyId)
    {
        _host = host;
        _rogue = rogue;
        _hostKeyId = hostKeyId;
        _commands = KeyedPartitionReader.Open(bootstrap, CommandTopics.Commands, System.Text.Encoding.UTF8.GetBytes(host), KeyedPartitionStart.End, null, null, TimeSpan.FromSeconds(30));
        _results = new KafkaRecordSink(new KafkaProducerOptions { BootstrapServers = bootstrap, Properties = new Dictionary<string, string> { ["linger.ms"] = "0" } }, _ => { });
        _loop = Task.Factory.StartNew(Run, TaskCreationOptions.LongRunning);
    }

    public int Forged => Volatile.Read(ref _forged);

    public static ResultForger Start(string bootstrap, string host, CommandSigner rogue, string hostKeyId) => new(bootstrap, host, rogue, hostKeyId);

    public void Dispose()
    {
        _stop.Cancel();
        _loop.Wait(TimeSpan.FromSeconds(10));
        _commands.Dispose();
        _results.Dispose();
        _stop.Dispose();
    }

    private void Run()
    {
        byte[] key = System.Text.Encoding.UTF8.GetBytes(_host);
        while (!_stop.IsCancellationRequested)
        {
            KafkaRecord? record = _commands.Read(TimeSpan.FromMilliseconds(50));
            if (record is null
                || !CommandCodec.TryDecodeEnvelope(record.Value, out CommandEnvelope envelope, out _)
                || !CommandCodec.TryDecodeBody(envelope.Body, out CommandRequest? request, out _))
            {
                continue;
            }

            var forged = new CommandResult(request!.Id, _host, CommandStatus.Applied, null, "7200", "5", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), request.Op);
            byte[] body = forged.Encode();
            byte[][] values =
            [
                body,
                _rogue.Sign(forged),
                CommandCodec.EncodeEnvelope(_hostKeyId, body, new byte[CommandCodec.SignatureLength]),
            ];
            foreach (byte[] value in values)
            {
                DeliveryWaiter.ProduceAsync(_results, CommandTopics.Results, key, value, _stop.Token).GetAwaiter().GetResult();
            }

            Interlocked.Increment(ref _forged);
        }
    }
}
