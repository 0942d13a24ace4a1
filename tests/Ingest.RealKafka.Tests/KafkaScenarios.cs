using System.Text.Json;
using Ingest.Commands;
using Ingest.Encoding;
using Ingest.Sinks.Kafka;
using Ingest.Tests.Telemetry;

namespace Ingest.RealKafka.Tests;

/// <summary>
/// What a user's CI proves against their Kafka: the pipeline delivers every event, the command
/// path round-trips, and a broker restart mid-stream loses nothing. Each subclass supplies the
/// cluster; the bodies are shared so the embedded-broker run exercises the same code every time.
/// </summary>
public abstract class KafkaScenarios
{
    private const int Datagrams = 2000;

    /// <summary>Starts the cluster, or skips the test with the reason it cannot.</summary>
    protected abstract Task<IKafkaUnderTest> OpenAsync();

    [Fact]
    public async Task The_pipeline_delivers_every_datagram_once_and_in_order()
    {
        await using var kafka = await OpenAsync();
        await using var daemon = new RunningDaemon(kafka.Bootstrap);
        await daemon.StartedAsync();

        await daemon.SendAsync(Datagrams, "a");
        await WaitDeliveredAsync(daemon, Datagrams);

        Assert.Equal(Enumerable.Range(0, Datagrams).Select(i => $"a-{i}"), ReadPayloads(kafka.Bootstrap, Datagrams));
        AssertNothingDropped(daemon);
    }

    [Fact]
    public async Task A_broker_restart_mid_stream_loses_nothing()
    {
        await using var kafka = await OpenAsync();
        await using var daemon = new RunningDaemon(kafka.Bootstrap);
        await daemon.StartedAsync();

        await daemon.SendAsync(Datagrams / 2, "before");
        await WaitDeliveredAsync(daemon, Datagrams / 2);

        await kafka.StopBrokerAsync();
        await daemon.SendAsync(Datagrams / 2, "during");

        // Every datagram of the outage is inside the pipeline (received), none acknowledged yet.
        await daemon.WaitForAsync(() => Udp(daemon).Received == Datagrams, "the outage's datagrams to be received");
        Assert.Equal(Datagrams / 2, Udp(daemon).Delivered);

        await kafka.StartBrokerAsync();
        await WaitDeliveredAsync(daemon, Datagrams);

        var expected = Enumerable.Range(0, Datagrams / 2).Select(i => $"before-{i}")
            .Concat(Enumerable.Range(0, Datagrams / 2).Select(i => $"during-{i}"));
        Assert.Equal(expected, ReadPayloads(kafka.Bootstrap, Datagrams));
        AssertNothingDropped(daemon);
    }

    [Fact]
    public async Task A_signed_command_round_trips_and_an_out_of_policy_one_is_denied()
    {
        await using var kafka = await OpenAsync();
        var dir = Directory.CreateTempSubdirectory("ingest-realkafka-").FullName;
        try
        {
            var sysctl = Path.Combine(dir, "sys", "net", "ipv4", "tcp_keepalive_time");
            Directory.CreateDirectory(Path.GetDirectoryName(sysctl)!);
            await File.WriteAllTextAsync(sysctl, "7200\n", TestContext.Current.CancellationToken);
            CommandKeys.Generate(Path.Combine(dir, "ops.key"), Path.Combine(dir, "ops.pub"));
            CommandKeys.Generate(Path.Combine(dir, "telemetry-host.key"), Path.Combine(dir, "telemetry-host.pub"));

            await using var daemon = new RunningDaemon(
                kafka.Bootstrap,
                new KeyValuePair<string, string?>("Commands:Enabled", "true"),
                new KeyValuePair<string, string?>("Commands:TrustedKeys:0", Path.Combine(dir, "ops.pub")),
                new KeyValuePair<string, string?>("Commands:HostKey", Path.Combine(dir, "telemetry-host.key")),
                new KeyValuePair<string, string?>("Commands:StateDirectory", Path.Combine(dir, "state")),
                new KeyValuePair<string, string?>("Commands:SysctlRoot", Path.Combine(dir, "sys")),
                new KeyValuePair<string, string?>("Commands:Sysctl:0:Key", "net.ipv4.tcp_keepalive_time"),
                new KeyValuePair<string, string?>("Commands:Sysctl:0:Min", "30"),
                new KeyValuePair<string, string?>("Commands:Sysctl:0:Max", "7200"));
            await daemon.StartedAsync();
            await daemon.WaitForAsync(() => daemon.Daemon.Commands is not null, "the command path to start");

            using var signer = CommandSigner.Load(Path.Combine(dir, "ops.key"));
            using var hostKeys = HostKeys.Open(dir);
            using var sender = new CommandSender(kafka.Bootstrap, signer, hostKeys);
            var host = daemon.Daemon.Snapshot!().Host;
            var applied = await sender.SendAsync(
                CommandRequest.Sysctl(CommandRequest.NewId(), host, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5), "net.ipv4.tcp_keepalive_time", "1234"),
                TimeSpan.FromSeconds(90),
                TestContext.Current.CancellationToken);
            Assert.NotNull(applied);
            Assert.Equal(CommandStatus.Applied, applied.Status);
            Assert.Equal("1234", (await File.ReadAllTextAsync(sysctl, TestContext.Current.CancellationToken)).Trim());

            var denied = await sender.SendAsync(
                CommandRequest.Sysctl(CommandRequest.NewId(), host, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5), "net.ipv4.tcp_keepalive_time", "99999"),
                TimeSpan.FromSeconds(90),
                TestContext.Current.CancellationToken);
            Assert.NotNull(denied);
            Assert.Equal(CommandStatus.Denied, denied.Status);
            Assert.Equal("1234", (await File.ReadAllTextAsync(sysctl, TestContext.Current.CancellationToken)).Trim());
            Assert.Equal(1, daemon.Daemon.Commands![CommandStatus.Applied]);
            Assert.Equal(1, daemon.Daemon.Commands[CommandStatus.Denied]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static Telemetry.SourceSnapshot Udp(RunningDaemon daemon) =>
        daemon.Daemon.Snapshot!().Sources.Single(s => s.Channel == "udp");

    private static Task WaitDeliveredAsync(RunningDaemon daemon, int events) =>
        daemon.WaitForAsync(() => Udp(daemon).Delivered >= events, $"{events} events acknowledged", seconds: 120);

    private static void AssertNothingDropped(RunningDaemon daemon)
    {
        var udp = Udp(daemon);
        Assert.Equal(0, udp.DroppedTotal);
        Assert.Equal(udp.Received, udp.Delivered);
        Assert.Equal(0, daemon.Daemon.Snapshot!().Sink["failed"]);
    }

    /// <summary>Reads kernel.events from the beginning until <paramref name="count"/> UDP payloads arrived, in per-source order.</summary>
    private static List<string> ReadPayloads(string bootstrap, int count)
    {
        var payloads = new List<string>(count);
        using var reader = new KafkaTopicReader(bootstrap, "kernel.events", fromBeginning: true, log: static _ => { });
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (payloads.Count < count && DateTime.UtcNow < deadline)
        {
            var record = reader.Read(TimeSpan.FromMilliseconds(500));
            if (record is null)
            {
                continue;
            }

            var decoded = RecordDecoder.Decode(record.Value);
            if (decoded.Channel != "udp")
            {
                continue;
            }

            foreach (var raw in decoded.Events)
            {
                using var json = JsonDocument.Parse(RecordDecoder.EventAsJson(decoded, raw));
                var payload = json.RootElement.GetProperty("data").GetProperty("payload").GetBytesFromBase64();
                payloads.Add(System.Text.Encoding.UTF8.GetString(payload));
            }
        }

        // Nothing more may follow: a duplicate would show up as an extra payload.
        for (var extra = reader.Read(TimeSpan.FromSeconds(2)); extra is not null; extra = reader.Read(TimeSpan.FromSeconds(1)))
        {
            var decoded = RecordDecoder.Decode(extra.Value);
            Assert.True(decoded.Channel != "udp", $"an extra udp record after {count} payloads: a duplicate");
        }

        return payloads;
    }
}

/// <summary>The scenarios against the embedded broker: they run on every machine.</summary>
public sealed class EmbeddedBrokerScenarios : KafkaScenarios
{
    protected override Task<IKafkaUnderTest> OpenAsync() => Task.FromResult<IKafkaUnderTest>(new EmbeddedKafka());
}

/// <summary>The scenarios against Apache Kafka in Docker; skipped, with the reason, where no engine answers.</summary>
public sealed class ApacheKafkaScenarios : KafkaScenarios
{
    protected override async Task<IKafkaUnderTest> OpenAsync()
    {
        if (DockerEngine.UnavailableReason is { } reason)
        {
            if (DockerEngine.Required)
            {
                Assert.Fail($"INGEST_REQUIRE_DOCKER=1 but {reason}");
            }

            Assert.Skip($"{reason}; the same scenarios ran against the embedded broker (EmbeddedBrokerScenarios)");
        }

        return await ApacheKafkaContainer.StartAsync();
    }
}
