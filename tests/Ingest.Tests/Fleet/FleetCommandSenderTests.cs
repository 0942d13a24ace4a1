using System.Diagnostics;
using System.Security.Cryptography;
using Ingest.Commands;
using Ingest.Fleet;
using Ingest.Sinks.Broker;
using Ingest.Sinks.Kafka;
using Ingest.Tests.Support;

namespace Ingest.Tests.Fleet;

/// <summary>
/// The fleet send path against the embedded broker, with the hosts' side played by the test: it
/// publishes each host's result itself (unsigned; the verifier given to the sender decodes it).
/// These are the exit paths behind issue 13's N = 200 failure: the first fleet command exited 1
/// with no summary after its timeout, because the results reader died positioning itself on the
/// results topic that the first results had just created, and its exception surfaced only after
/// every host had timed out.
/// </summary>
public class FleetCommandSenderTests
{
    private const short ListOffsets = 2;
    private const int TopicAuthorizationFailed = 29;

    private static readonly string[] Hosts = ["h1", "h2", "h3", "h4", "h5"];

    private static CommandRequest RequestFor(string host) =>
        CommandRequest.Sysctl("c-1", host, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1), "net.ipv4.tcp_keepalive_time", "600");

    private static (CommandResult? Result, string? Error) Decode(string host, byte[] value) =>
        CommandResult.TryDecode(value) is { } result ? (result, null) : (null, "not a result");

    /// <summary>Positions a reader at the end of the (created) commands topic, for <see cref="AnswerAsync"/>.</summary>
    private static KafkaRecentReader CommandsReader(EmbeddedBroker broker, string commandsTopic)
    {
        broker.CreateTopic(commandsTopic, 1);
        var commands = new KafkaRecentReader(broker.BootstrapServers, commandsTopic, since: null);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!commands.Assigned && DateTime.UtcNow < deadline)
        {
            commands.Read(TimeSpan.FromMilliseconds(100));
        }

        Assert.True(commands.Assigned, commands.LastAssignError);
        return commands;
    }

    /// <summary>Publishes an applied result for every host once each host's command is on the commands topic.</summary>
    private static async Task AnswerAsync(string bootstrap, KafkaRecentReader commands, string resultsTopic, CancellationToken ct)
    {
        using var sink = new KafkaRecordSink(new KafkaProducerOptions { BootstrapServers = bootstrap }, _ => { });
        var answered = new HashSet<string>(StringComparer.Ordinal);
        while (answered.Count < Hosts.Length && !ct.IsCancellationRequested)
        {
            if (commands.Read(TimeSpan.FromMilliseconds(100)) is { Key: { } key })
            {
                var host = System.Text.Encoding.UTF8.GetString(key);
                if (answered.Add(host))
                {
                    var result = new CommandResult("c-1", host, CommandStatus.Applied, null, "7200", "600", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), CommandOps.SysctlWrite);
                    var outcome = await DeliveryWaiter.ProduceAsync(sink, resultsTopic, key, result.Encode(), ct);
                    Assert.True(outcome.Delivered, outcome.Error);
                }
            }
        }
    }

    private static FleetCommandSender Sender(EmbeddedBroker broker, string topics, Func<string, byte[], (CommandResult?, string?)> verify) =>
        new(broker.BootstrapServers, new CommandSigner(ECDsa.Create(ECCurve.NamedCurves.nistP256)), verify)
        {
            CommandsTopic = $"{topics}.commands",
            ResultsTopic = $"{topics}.results",
        };

    [Fact]
    public async Task A_results_topic_that_cannot_be_positioned_on_at_first_is_retried_and_every_result_counts()
    {
        var ct = TestContext.Current.CancellationToken;
        using var broker = EmbeddedBroker.Start();
        using var sender = Sender(broker, "fs1", Decode);
        var notices = new List<string>();
        sender.Notice = n =>
        {
            lock (notices)
            {
                notices.Add(n);
            }
        };

        // The results topic does not exist when the command goes out (the first command to a new
        // fleet). Its first position lookups fail once it does, as a busy broker's time out did.
        using var commands = CommandsReader(broker, "fs1.commands");
        broker.PushRequestErrors(ListOffsets, TopicAuthorizationFailed, TopicAuthorizationFailed);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var hosts = Task.Run(() => AnswerAsync(broker.BootstrapServers, commands, "fs1.results", stop.Token), ct);
        var clock = Stopwatch.StartNew();
        var outcomes = await sender.SendAsync(Hosts, RequestFor, TimeSpan.FromSeconds(30), cancellationToken: ct);
        await stop.CancelAsync();
        await hosts;

        Assert.All(outcomes, o => Assert.True(o.Applied, o.ToString()));
        Assert.Equal(Hosts, outcomes.Select(o => o.Host));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(25), $"took {clock.Elapsed}");
        lock (notices)
        {
            Assert.Contains(notices, n => n.Contains("Topic authorization failed", StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public async Task A_results_reader_that_fails_fails_every_waiting_host_at_once_with_the_reason()
    {
        var ct = TestContext.Current.CancellationToken;
        using var broker = EmbeddedBroker.Start();
        using var sender = Sender(broker, "fs2", (_, _) => throw new InvalidDataException("verifier defect"));
        using var commands = CommandsReader(broker, "fs2.commands");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var hosts = Task.Run(() => AnswerAsync(broker.BootstrapServers, commands, "fs2.results", stop.Token), ct);
        var clock = Stopwatch.StartNew();
        var outcomes = await sender.SendAsync(Hosts, RequestFor, TimeSpan.FromSeconds(60), cancellationToken: ct);
        await stop.CancelAsync();
        await hosts;

        // Not 60 s of waiting for results nobody reads any more, then an exception: an outcome
        // per host, each saying why, as soon as the reader stopped.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.All(outcomes, o =>
        {
            Assert.False(o.Applied);
            Assert.False(o.TimedOut);
            Assert.Contains("results reader of fs2.results failed", o.Error, StringComparison.Ordinal);
            Assert.Contains("verifier defect", o.Error, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Send_to_an_unreachable_broker_exits_3_within_its_timeout_with_a_summary_naming_the_hosts()
    {
        var dir = Directory.CreateTempSubdirectory("ingest-fleet-send-").FullName;
        try
        {
            CommandKeys.Generate(Path.Combine(dir, "ops.key"), Path.Combine(dir, "ops.pub"));
            var hostKeys = Directory.CreateDirectory(Path.Combine(dir, "hosts")).FullName;
            foreach (var host in new[] { "a", "b" })
            {
                CommandKeys.Generate(Path.Combine(dir, $"{host}.key"), Path.Combine(hostKeys, $"{host}.pub"));
            }

            // Before, the wait for the delivery report was not bounded by --timeout: librdkafka
            // retries an unreachable broker for message.timeout.ms (5 minutes).
            var clock = Stopwatch.StartNew();
            var send = await ProcessRunner.RunAsync(
                CliProcess.ExecutablePath,
                ["send", "-b", "127.0.0.1:1", "--key", Path.Combine(dir, "ops.key"), "--host-pub", hostKeys, "--host", "a", "--host", "b", "--sysctl", "net.ipv4.tcp_keepalive_time=600", "--timeout", "2"],
                timeout: TimeSpan.FromSeconds(90));
            var lines = send.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(send.ExitCode == 3, $"exit {send.ExitCode}: {send.StdoutText} {send.Stderr}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(45), $"took {clock.Elapsed}");
            Assert.Contains(lines, l => l.StartsWith("timeout a not acknowledged by kernel.commands within 2 s", StringComparison.Ordinal));
            Assert.Contains("0 applied, 0 refused or failed, 2 timed out, of 2 host(s)", Assert.Single(lines, l => l.StartsWith("summary: ", StringComparison.Ordinal)), StringComparison.Ordinal);
            Assert.Equal("timed out: a b", Assert.Single(lines, l => l.StartsWith("timed out: ", StringComparison.Ordinal)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
