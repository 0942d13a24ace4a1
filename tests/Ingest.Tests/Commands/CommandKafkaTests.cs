using System.Diagnostics;
using Ingest.Commands;
using Ingest.Sinks.Broker;
using Ingest.Sinks.Kafka;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Tests.Commands;

/// <summary>
/// The command path through a real Kafka-protocol broker (librdkafka's mock cluster): the
/// dispatcher reads its host's partition, applies to a file tree, publishes host-signed results,
/// commits; the sender signs, publishes and waits for the matching verified result.
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
    public async Task Applies_a_sent_command_and_counts_unverified_records_without_answering_each()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var dispatcher = Start();
        // 10 MB must reach the broker for the host to see it: raise the producer's limit.
        using var sender = new CommandSender(_broker.BootstrapServers, _world.Operator, _world.HostKeys, new Dictionary<string, string> { ["message.max.bytes"] = "16000000" });

        CommandResult? applied = await sender.SendAsync(_world.Keepalive("900", id: "kafka-1"), s_wait, ct);
        Assert.NotNull(applied);
        Assert.Equal((CommandStatus.Applied, "7200", "900"), (applied.Status, applied.Before, applied.After));
        Assert.Equal("900", _world.Keepalive());
        File.WriteAllText(_world.KeepalivePath, "7200\n");

        byte[] signed = _world.Operator.Sign(_world.Keepalive("600", id: "kafka-truncated"));
        await sender.PublishRawAsync(CommandWorld.Host, new byte[10 * 1024 * 1024], s_wait, ct);
        await sender.PublishRawAsync(CommandWorld.Host, [0x85, 0xc1], s_wait, ct);
        await sender.PublishRawAsync(CommandWorld.Host, signed[..^5], s_wait, ct);
        await sender.PublishRawAsync(CommandWorld.Host, _world.Rogue.Sign(_world.Keepalive("600", id: "kafka-rogue")), s_wait, ct);

        // Summarised in signed results (the first at once, the rest within 10 s), not one each.
        long summarised = 0;
        var deadline = Stopwatch.StartNew();
        while (summarised < 4 && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            CommandResult? summary = await sender.WaitForResultAsync(CommandWorld.Host, r => r.Status == CommandStatus.Invalid && r.Id is null, TimeSpan.FromSeconds(15), ct);
            Assert.NotNull(summary);
            Assert.Null(summary.ClaimedId);
            Assert.Contains("refused before signature verification", summary.Error, StringComparison.Ordinal);
            summarised += long.Parse(summary.Error!.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        }

        Assert.Equal(4, summarised);
        Assert.Equal(1, dispatcher.Stats[RejectReason.Oversized]);
        Assert.Equal(2, dispatcher.Stats[RejectReason.Malformed]);
        Assert.Equal(1, dispatcher.Stats[RejectReason.UnknownKeyId]);
        Assert.Equal(0, dispatcher.Stats[CommandStatus.Invalid]);

        // Signed for another host but keyed to this one: ignored, counted, no result.
        await sender.PublishRawAsync(CommandWorld.Host, _world.Operator.Sign(_world.Keepalive("600", id: "kafka-elsewhere", host: "sensor-99")), s_wait, ct);
        CommandResult? after = await sender.SendAsync(_world.Keepalive("1", id: "kafka-after"), s_wait, ct);
        Assert.Equal(CommandStatus.Denied, after?.Status);
        Assert.Equal(1, dispatcher.Stats.WrongHost);
        Assert.Equal(1, dispatcher.Stats[CommandStatus.Applied]);

        Assert.Equal(0, sender.UnverifiableCount);
        _world.AssertNothingWritten();
    }

    [Fact]
    public async Task A_restarted_dispatcher_resumes_after_committed_records_and_answers_replays()
    {
        var ct = TestContext.Current.CancellationToken;
        using var sender = new CommandSender(_broker.BootstrapServers, _world.Operator, _world.HostKeys);
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
    public async Task A_corrupted_replay_store_disables_the_path_until_it_is_fixed()
    {
        var ct = TestContext.Current.CancellationToken;
        Directory.CreateDirectory(_world.Options.StateDirectory!);
        string store = Path.Combine(_world.Options.StateDirectory!, ReplayStore.FileName);
        File.WriteAllText(store, "not a store line\n");
        using var sender = new CommandSender(_broker.BootstrapServers, _world.Operator, _world.HostKeys);

        await using var dispatcher = Start();
        await WaitFor(() => dispatcher.Stats.State == CommandPathState.Disabled, ct);
        Assert.Contains("corrupted at line 1", dispatcher.Stats.DisabledReason, StringComparison.Ordinal);

        // Nothing is applied while disabled; once the operator removes the file, a retry picks up
        // the waiting command.
        await sender.PublishRawAsync(CommandWorld.Host, _world.Operator.Sign(_world.Keepalive("700", id: "after-fix")), s_wait, ct);
        await Task.Delay(500, ct);
        Assert.Equal("7200\n", _world.Keepalive());
        File.Delete(store);

        CommandResult? applied = await sender.WaitForResultAsync(CommandWorld.Host, r => r.Id == "after-fix", s_wait, ct);
        Assert.Equal(CommandStatus.Applied, applied?.Status);
        Assert.Equal(CommandPathState.Running, dispatcher.Stats.State);
        Assert.True(dispatcher.Stats.Faults >= 1);
    }

    [Fact]
    public async Task A_valid_command_behind_100000_junk_records_is_applied_within_5_seconds()
    {
        var ct = TestContext.Current.CancellationToken;
        using var sender = new CommandSender(_broker.BootstrapServers, _world.Operator, _world.HostKeys);

        // 100,000 one-byte records keyed with the host id, as anyone with write access could send,
        // all queued before the host reads: the worst case, a backlog to get through first.
        const int Junk = 100_000;
        using (var junk = new KafkaRecordSink(new KafkaProducerOptions { BootstrapServers = _broker.BootstrapServers }, _ => { }))
        {
            byte[] key = CommandWorld.HostKey;
            var done = new TaskCompletionSource<DeliveryOutcome>[Junk];
            for (int i = 0; i < Junk; i++)
            {
                done[i] = DeliveryWaiter.NewState();
                while (!junk.TryProduce(CommandTopics.Commands, key, [(byte)i], [], DeliveryWaiter.Instance, done[i]))
                {
                    await junk.WaitForSpaceAsync(ct);
                }
            }

            foreach (var d in done)
            {
                Assert.True((await d.Task.WaitAsync(s_wait, ct)).Delivered);
            }
        }

        // The clock runs from the host's start (reader set-up included) to the verified result.
        var clock = Stopwatch.StartNew();
        await using var dispatcher = Start();
        CommandResult? applied = await sender.SendAsync(_world.Keepalive("850", id: "behind-junk"), s_wait, ct);
        TimeSpan elapsed = clock.Elapsed;

        Assert.Equal(CommandStatus.Applied, applied?.Status);
        Assert.Equal("850", _world.Keepalive());
        Assert.Equal(Junk, dispatcher.Stats[RejectReason.Malformed]);
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"applied {elapsed.TotalSeconds:F2} s after the host started, behind {Junk} junk records");
    }

    [Fact]
    public async Task Forged_results_racing_a_real_command_are_not_counted()
    {
        var ct = TestContext.Current.CancellationToken;
        using var forger = ResultForger.Start(_broker.BootstrapServers, CommandWorld.Host, _world.Rogue, _world.HostKeyId);
        var notes = new List<string>();
        using var sender = new CommandSender(_broker.BootstrapServers, _world.Operator, _world.HostKeys) { Unverifiable = n => { lock (notes) { notes.Add(n); } } };

        // Out of range: the real answer is denied; the forger's applied results are in first.
        await sender.PublishRawAsync(CommandWorld.Host, _world.Operator.Sign(_world.Keepalive("5", id: "race-1")), s_wait, ct);
        await WaitFor(() => forger.Forged >= 1, ct);
        await using var dispatcher = Start();
        CommandResult? result = await sender.WaitForResultAsync(CommandWorld.Host, r => r.Id == "race-1", s_wait, ct);

        Assert.Equal(CommandStatus.Denied, result?.Status);
        Assert.Equal(3, sender.UnverifiableCount);
        lock (notes)
        {
            Assert.Contains(notes, n => n.Contains("not a signed result", StringComparison.Ordinal));
            Assert.Contains(notes, n => n.Contains("signed by key", StringComparison.Ordinal));
            Assert.Contains(notes, n => n.Contains("bad signature", StringComparison.Ordinal));
        }

        _world.AssertNothingWritten();
    }

    [Fact]
    public async Task Ingest_send_does_not_exit_0_on_forged_applied_results()
    {
        var ct = TestContext.Current.CancellationToken;
        using var forger = ResultForger.Start(_broker.BootstrapServers, CommandWorld.Host, _world.Rogue, _world.HostKeyId);
        string[] send(string value, string timeout) =>
        [
            "send", "-b", _broker.BootstrapServers, "--host", CommandWorld.Host, "--key", Path.Combine(_world.KeyDirectory, "ops.key"),
            "--host-pub", _world.KeyDirectory, "--timeout", timeout, "--sysctl", $"{CommandWorld.KeepaliveKey}={value}",
        ];

        // The host is offline: only forged answers arrive. No verified result: exit 3. (Out of
        // range, so it is denied when the host comes up below.)
        var offline = await Support.ProcessRunner.RunAsync(Support.CliProcess.ExecutablePath, send("1", "6"), timeout: TimeSpan.FromSeconds(60));
        Assert.True(offline.ExitCode == 3, $"exit {offline.ExitCode}: {offline.StdoutText} {offline.Stderr}");
        Assert.Contains("ignored an unverifiable result", offline.Stderr, StringComparison.Ordinal);
        Assert.Contains("no verified result", offline.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("applied", offline.StdoutText, StringComparison.Ordinal);

        // The host is up and refuses the command; the forger answers applied first. Exit 1, denied.
        await using var dispatcher = Start();
        var raced = await Support.ProcessRunner.RunAsync(Support.CliProcess.ExecutablePath, send("5", "60"), timeout: TimeSpan.FromSeconds(90));
        Assert.True(raced.ExitCode == 1, $"exit {raced.ExitCode}: {raced.StdoutText} {raced.Stderr}");
        Assert.StartsWith("denied ", raced.StdoutText, StringComparison.Ordinal);
        Assert.True(forger.Forged >= 2, $"forged answers: {forger.Forged}");
        _world.AssertNothingWritten();
    }

    [Fact]
    public async Task A_sender_waiting_on_an_offline_host_ignores_forged_results_until_its_timeout()
    {
        var ct = TestContext.Current.CancellationToken;
        using var forger = ResultForger.Start(_broker.BootstrapServers, CommandWorld.Host, _world.Rogue, _world.HostKeyId);
        using var sender = new CommandSender(_broker.BootstrapServers, _world.Operator, _world.HostKeys);

        CommandResult? result = await sender.SendAsync(_world.Keepalive("600", id: "offline-1"), TimeSpan.FromSeconds(5), ct);

        Assert.Null(result);
        Assert.Equal(3, sender.UnverifiableCount);
    }

    private static async Task WaitFor(Func<bool> condition, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < s_wait, "condition not reached in time");
            await Task.Delay(50, ct);
        }
    }

    private CommandDispatcher Start() =>
        CommandDispatcher.Start(_broker.BootstrapServers, CommandWorld.Host, _world.Options, new Dictionary<string, string>(), NullLogger.Instance);
}
