using Ingest.Commands;
using Ingest.Sinks.Broker;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Tests.Commands;

/// <summary>
/// The command path through a real Kafka-protocol broker (librdkafka's mock cluster): the
/// dispatcher reads its host's partition, applies to a file tree, publishes results, commits; the
/// sender signs, publishes and waits for the matching result.
/// </summary>
public sealed class CommandKafkaTests : IDisposable
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(60);

    private readonly CommandWorld _world = new();
    private readonly EmbeddedBroker _broker = EmbeddedBroker.Start();

    public CommandKafkaTests()
    {
        _world.Options.IoctlDevice = Path.Combine(_world.Base, "no-kingest-device");
        // The dispatcher decides with the real clock: sign with it too.
        _world.Time.Now = DateTimeOffset.UtcNow;
        // The dispatcher keeps its own store, apart from the world's in-process processor.
        _world.Options.StateDirectory = Path.Combine(_world.Base, "daemon-state");
    }

    public void Dispose()
    {
        _broker.Dispose();
        _world.Dispose();
    }

    [Fact]
    public async Task Applies_a_sent_command_and_answers_hostile_records_without_writing()
    {
        var ct = TestContext.Current.CancellationToken;
        await using (var dispatcher = Start())
        {
            // 10 MB must reach the broker for the host to see it: raise the producer's limit.
            using var sender = new CommandSender(_broker.BootstrapServers, _world.Operator, new Dictionary<string, string> { ["message.max.bytes"] = "16000000" });

            CommandResult? applied = await sender.SendAsync(_world.Keepalive("900", id: "kafka-1"), s_wait, ct);
            Assert.NotNull(applied);
            Assert.Equal((CommandStatus.Applied, "7200", "900"), (applied.Status, applied.Before, applied.After));
            Assert.Equal("900", _world.Keepalive());
            File.WriteAllText(_world.KeepalivePath, "7200\n");

            CommandResult? huge = await sender.SendRawAsync(CommandWorld.Host, new byte[10 * 1024 * 1024], _ => true, s_wait, ct);
            Assert.Equal(CommandStatus.Invalid, huge?.Status);
            Assert.Contains("exceeds the 65536-byte limit", huge!.Error, StringComparison.Ordinal);

            CommandResult? malformed = await sender.SendRawAsync(CommandWorld.Host, [0x85, 0xc1], _ => true, s_wait, ct);
            Assert.Equal(CommandStatus.Invalid, malformed?.Status);

            byte[] signed = _world.Operator.Sign(_world.Keepalive("600", id: "kafka-truncated"));
            CommandResult? truncated = await sender.SendRawAsync(CommandWorld.Host, signed[..^5], _ => true, s_wait, ct);
            Assert.Equal(CommandStatus.Invalid, truncated?.Status);

            CommandResult? rogue = await sender.SendRawAsync(CommandWorld.Host, _world.Rogue.Sign(_world.Keepalive("600", id: "kafka-rogue")), r => r.Id == "kafka-rogue", s_wait, ct);
            Assert.Equal(CommandStatus.Invalid, rogue?.Status);
            Assert.Contains("unknown key id", rogue!.Error, StringComparison.Ordinal);

            // Signed for another host but keyed to this one: ignored, counted, no result.
            byte[] elsewhere = _world.Operator.Sign(_world.Keepalive("600", id: "kafka-elsewhere", host: "sensor-99"));
            await sender.SendRawAsync(CommandWorld.Host, elsewhere, _ => false, TimeSpan.FromSeconds(2), ct);
            CommandResult? after = await sender.SendAsync(_world.Keepalive("1", id: "kafka-after"), s_wait, ct);
            Assert.Equal(CommandStatus.Denied, after?.Status);
            Assert.Equal(1, dispatcher.Stats.WrongHost);

            Assert.Equal(1, dispatcher.Stats[CommandStatus.Applied]);
            Assert.Equal(4, dispatcher.Stats[CommandStatus.Invalid]);
            _world.AssertNothingWritten();
        }
    }

    [Fact]
    public async Task A_restarted_dispatcher_resumes_after_committed_records_and_answers_replays()
    {
        var ct = TestContext.Current.CancellationToken;
        using var sender = new CommandSender(_broker.BootstrapServers, _world.Operator);
        byte[] signed = _world.Operator.Sign(_world.Keepalive("1200", id: "restart-1"));

        await using (Start())
        {
            Assert.Equal(CommandStatus.Applied, (await sender.SendRawAsync(CommandWorld.Host, signed, r => r.Id == "restart-1", s_wait, ct))?.Status);
        }

        File.WriteAllText(_world.KeepalivePath, "7200\n");
        await using (var restarted = Start())
        {
            // The committed command is not read again; the same bytes sent again are a replay.
            CommandResult? replay = await sender.SendRawAsync(CommandWorld.Host, signed, r => r.Id == "restart-1", s_wait, ct);
            Assert.Equal(CommandStatus.Replayed, replay?.Status);
            Assert.Equal(0, restarted.Stats[CommandStatus.Applied]);
            Assert.Equal(1, restarted.Stats[CommandStatus.Replayed]);
        }

        _world.AssertNothingWritten();
    }

    [Fact]
    public async Task Corrupted_replay_store_refuses_to_start()
    {
        await using (Start())
        {
        }

        File.WriteAllText(Path.Combine(_world.Options.StateDirectory!, ReplayStore.FileName), "not a store line\n");

        var e = Assert.Throws<ReplayStoreCorruptException>(() => Start());
        Assert.Contains("corrupted", e.Message, StringComparison.Ordinal);
    }

    private CommandDispatcher Start() =>
        CommandDispatcher.Start(_broker.BootstrapServers, CommandWorld.Host, _world.Options, new Dictionary<string, string>(), NullLogger.Instance);
}
