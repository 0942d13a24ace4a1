using Ingest.Commands;
using Ingest.Fleet;
using Ingest.Sinks.Broker;
using Ingest.Sinks.Kafka;
using Ingest.Tests.Support;

namespace Ingest.Tests.Fleet;

/// <summary>The fleet's Kafka side against the embedded broker: reading the recent past, reading from the end, targets.</summary>
public class FleetReaderTests
{
    private static async Task ProduceAsync(KafkaRecordSink sink, string topic, string host, byte[] value)
    {
        var outcome = await DeliveryWaiter.ProduceAsync(sink, topic, System.Text.Encoding.UTF8.GetBytes(host), value, TestContext.Current.CancellationToken);
        Assert.True(outcome.Delivered, outcome.Error);
    }

    private static List<KafkaRecord> ReadUntilCaughtUp(KafkaRecentReader reader, TimeSpan timeout)
    {
        var records = new List<KafkaRecord>();
        var deadline = DateTime.UtcNow + timeout;
        while (!reader.CaughtUp && DateTime.UtcNow < deadline)
        {
            if (reader.Read(TimeSpan.FromMilliseconds(100)) is { } r)
            {
                records.Add(r);
            }
        }

        return records;
    }

    [Fact]
    public async Task The_recent_past_is_read_up_to_where_the_topic_ended_then_new_records_follow()
    {
        using var broker = EmbeddedBroker.Start();
        using var sink = new KafkaRecordSink(new KafkaProducerOptions { BootstrapServers = broker.BootstrapServers }, _ => { });
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var i = 0; i < 20; i++)
        {
            await ProduceAsync(sink, "fleet.t1", $"h{i}", FleetRecords.Heartbeat($"h{i}", now));
        }

        using var reader = new KafkaRecentReader(broker.BootstrapServers, "fleet.t1", DateTimeOffset.UtcNow.AddMinutes(-1));
        var past = ReadUntilCaughtUp(reader, TimeSpan.FromSeconds(30));
        Assert.True(reader.CaughtUp);
        Assert.Equal(20, past.Count);

        await ProduceAsync(sink, "fleet.t1", "late", FleetRecords.Heartbeat("late", now));
        KafkaRecord? next = null;
        for (var i = 0; i < 100 && next is null; i++)
        {
            next = reader.Read(TimeSpan.FromMilliseconds(100));
        }

        Assert.Equal("late", System.Text.Encoding.UTF8.GetString(next!.Key!));

        // A start after every record: nothing to read, caught up at once.
        using var later = new KafkaRecentReader(broker.BootstrapServers, "fleet.t1", DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Empty(ReadUntilCaughtUp(later, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task From_the_end_only_new_records_are_read_and_a_topic_created_later_is_read_whole()
    {
        using var broker = EmbeddedBroker.Start();
        using var sink = new KafkaRecordSink(new KafkaProducerOptions { BootstrapServers = broker.BootstrapServers }, _ => { });
        await ProduceAsync(sink, "fleet.t2", "old", [1]);

        using var fromEnd = new KafkaRecentReader(broker.BootstrapServers, "fleet.t2", since: null);
        Assert.Null(fromEnd.Read(TimeSpan.FromMilliseconds(200)));
        Assert.True(fromEnd.Assigned);
        await ProduceAsync(sink, "fleet.t2", "new", [2]);

        using var missing = new KafkaRecentReader(broker.BootstrapServers, "fleet.t3", since: null);
        Assert.Null(missing.Read(TimeSpan.FromMilliseconds(200)));
        Assert.False(missing.Assigned);
        await ProduceAsync(sink, "fleet.t3", "first", [3]);

        Assert.Equal(["new"], Drain(fromEnd));
        Assert.Equal(["first"], Drain(missing));
    }

    [Fact]
    public async Task A_failed_positioning_is_counted_and_retried_by_the_next_read_not_thrown()
    {
        using var broker = EmbeddedBroker.Start();
        using var sink = new KafkaRecordSink(new KafkaProducerOptions { BootstrapServers = broker.BootstrapServers }, _ => { });
        await ProduceAsync(sink, "fleet.t4", "old", [1]);

        // The end offsets cannot be looked up at first (a busy broker timing out, a new topic
        // without a leader yet): before, the exception left the reader (and `ingest send`'s
        // results reader with it) dead.
        broker.PushRequestErrors(2, 29, 29); // both requests of one end-offsets lookup (low and high)
        using var reader = new KafkaRecentReader(broker.BootstrapServers, "fleet.t4", since: null);
        Assert.Null(reader.Read(TimeSpan.FromMilliseconds(100)));
        Assert.False(reader.Assigned);
        Assert.Equal(1, reader.AssignFailures);
        Assert.Contains("authorization", reader.LastAssignError, StringComparison.OrdinalIgnoreCase);

        Assert.Null(reader.Read(TimeSpan.FromMilliseconds(100)));
        Assert.True(reader.Assigned);
        await ProduceAsync(sink, "fleet.t4", "new", [2]);
        Assert.Equal(["new"], Drain(reader));
    }

    [Fact]
    public async Task The_recent_past_is_read_even_when_fetches_fail_at_first()
    {
        using var broker = EmbeddedBroker.Start();
        broker.CreateTopic("fleet.t5", 1);
        using var sink = new KafkaRecordSink(new KafkaProducerOptions { BootstrapServers = broker.BootstrapServers }, _ => { });
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var i = 0; i < 5; i++)
        {
            await ProduceAsync(sink, "fleet.t5", $"h{i}", FleetRecords.Heartbeat($"h{i}", now));
        }

        // This broker has no offsets-for-times. Before, the reader told that apart from "every
        // record is older" by fetching the newest record within 1 s; fetches failing (or a busy
        // broker) for longer read as "every record is older", and the view started at the end,
        // without the recent past (one reason it saw 177 of 200 hosts at N = 200). Now a lookup by
        // time (the epoch) tells them apart without fetching.
        broker.PushRequestErrors(1, Enumerable.Repeat(6, 8).ToArray()); // Fetch: NOT_LEADER_FOR_PARTITION
        using var reader = new KafkaRecentReader(broker.BootstrapServers, "fleet.t5", DateTimeOffset.UtcNow.AddMinutes(-1));
        var past = ReadUntilCaughtUp(reader, TimeSpan.FromSeconds(60));
        Assert.True(reader.CaughtUp);
        Assert.Equal(["h0", "h1", "h2", "h3", "h4"], past.Select(r => System.Text.Encoding.UTF8.GetString(r.Key!)));
    }

    [Fact]
    public async Task Hosts_seen_are_those_with_a_recent_heartbeat_matching_the_glob()
    {
        using var broker = EmbeddedBroker.Start();
        using var sink = new KafkaRecordSink(new KafkaProducerOptions { BootstrapServers = broker.BootstrapServers }, _ => { });
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await ProduceAsync(sink, "kernel.events", "line1-a", FleetRecords.Heartbeat("line1-a", now));
        await ProduceAsync(sink, "kernel.events", "line1-b", FleetRecords.Heartbeat("line1-b", now - 120_000)); // silent for 2 minutes
        await ProduceAsync(sink, "kernel.events", "line2-a", FleetRecords.Heartbeat("line2-a", now));
        await ProduceAsync(sink, "kernel.events", "line1-c", FleetRecords.Datagrams("line1-c", 3)); // no heartbeat

        var seen = FleetTargets.Seen(broker.BootstrapServers, "kernel.events", "line1-*", TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(30));
        Assert.Equal(["line1-a"], seen);
    }

    [Fact]
    public async Task Targets_from_a_file_skip_comments_and_repeat_each_host_once()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllLinesAsync(file, ["# line 3", "h1", "", "  h2  ", "h1", "#h3"], TestContext.Current.CancellationToken);
            Assert.Equal(["h1", "h2"], FleetTargets.Distinct(FleetTargets.FromFile(file)));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Send_without_targets_is_a_usage_error_and_dry_run_sends_nothing()
    {
        var dir = Directory.CreateTempSubdirectory("ingest-fleet-send-").FullName;
        try
        {
            CommandKeys.Generate(Path.Combine(dir, "ops.key"), Path.Combine(dir, "ops.pub"));
            var none = await ProcessRunner.RunAsync(CliProcess.ExecutablePath, ["send", "-b", "127.0.0.1:1", "--key", Path.Combine(dir, "ops.key"), "--sysctl", "net.ipv4.tcp_keepalive_time=600"]);
            Assert.Equal(2, none.ExitCode);
            Assert.Contains("--hosts-file", none.Stderr, StringComparison.Ordinal);

            var dry = await ProcessRunner.RunAsync(CliProcess.ExecutablePath, ["send", "-b", "127.0.0.1:1", "--key", Path.Combine(dir, "ops.key"), "--host", "a", "--host", "b", "--host", "a", "--sysctl", "net.ipv4.tcp_keepalive_time=600", "--dry-run"]);
            Assert.True(dry.ExitCode == 0, dry.Stderr);
            Assert.Equal(["target a", "target b", "2 target(s); nothing sent (--dry-run)"], dry.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Fleet_once_prints_a_table_of_the_hosts_and_says_when_the_topic_is_missing()
    {
        using var broker = EmbeddedBroker.Start();
        var missing = await ProcessRunner.RunAsync(CliProcess.ExecutablePath, ["fleet", "-b", broker.BootstrapServers, "--once", "--timeout", "2"]);
        Assert.True(missing.ExitCode == 0, missing.Stderr);
        Assert.Contains("topic not found", missing.Stderr, StringComparison.Ordinal);

        using var sink = new KafkaRecordSink(new KafkaProducerOptions { BootstrapServers = broker.BootstrapServers }, _ => { });
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await ProduceAsync(sink, "kernel.events", "press-7", FleetRecords.Heartbeat("press-7", now, udpReceived: 900, udpRate: 90, dropped: 4, lastStatus: "applied"));
        await ProduceAsync(sink, "kernel.events", "press-8", FleetRecords.Heartbeat("press-8", now - 600_000));
        await ProduceAsync(sink, "kernel.events", "press-7", FleetRecords.Sensor("press-7", "ring", now * 1_000_000, 12, 95_000, 80_000));
        var table = await ProcessRunner.RunAsync(CliProcess.ExecutablePath, ["fleet", "-b", broker.BootstrapServers, "--once", "--since", "3600", "--host", "press-*", "--sort", "seen"]);
        Assert.True(table.ExitCode == 0, table.Stderr);
        var rows = table.StdoutText.Split('\n').Where(l => l.TrimStart().StartsWith("press-", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, rows.Count);
        Assert.StartsWith("press-8", rows[0].TrimStart(), StringComparison.Ordinal); // silent longest: first
        Assert.Contains("STALE", rows[0], StringComparison.Ordinal);
        Assert.Contains("udp 90", rows[1], StringComparison.Ordinal);
        Assert.Contains("sensor 12 95.0", rows[1], StringComparison.Ordinal);
        Assert.Contains("applied sysctl c-1", rows[1], StringComparison.Ordinal);
    }

    private static List<string> Drain(KafkaRecentReader reader)
    {
        var keys = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (keys.Count == 0 && DateTime.UtcNow < deadline)
        {
            while (reader.Read(TimeSpan.FromMilliseconds(100)) is { } r)
            {
                keys.Add(System.Text.Encoding.UTF8.GetString(r.Key!));
            }
        }

        return keys;
    }
}
