using System.Text.Json;
using Ingest.Fleet;

namespace Ingest.Tests.Fleet;

public class FleetStateTests
{
    private const long Now = 1_800_000_000_000;

    [Fact]
    public void A_heartbeat_makes_a_row_with_its_figures()
    {
        var state = new FleetState();
        state.Apply(FleetRecords.Heartbeat("h1", Now, udpReceived: 500, udpRate: 50, dropped: 3, lastStatus: "applied"));

        Assert.True(state.Malformed == 0, state.LastError);
        var row = Assert.Single(state.Hosts);
        Assert.Equal("h1", row.Host);
        Assert.Equal(Now, row.LastHeartbeatMs);
        Assert.Equal("test", row.Version);
        Assert.Equal(50, row.EventsPerSecond);
        Assert.Equal(3, row.Dropped);
        Assert.Null(row.SpoolBytes);
        Assert.Equal("running", row.CommandState);
        Assert.Equal("applied", row.LastCommandStatus);
        Assert.Equal("c-1", row.LastCommandId);
        Assert.Equal(50_000_000, row.RssBytes);
        var udp = Assert.Single(row.Channels);
        Assert.Equal(("udp", 500L, 497L), (udp.Name, udp.Received, udp.Delivered));
        Assert.Equal(1, state.Heartbeats);
    }

    [Fact]
    public void Stale_after_more_than_three_silent_intervals()
    {
        var state = new FleetState();
        state.Apply(FleetRecords.Heartbeat("h1", Now, interval: 2));
        var row = state.Find("h1")!;
        Assert.False(row.IsStale(Now + 6_000));
        Assert.True(row.IsStale(Now + 6_001));
    }

    [Fact]
    public void An_older_heartbeat_does_not_replace_a_newer_one()
    {
        var state = new FleetState();
        state.Apply(FleetRecords.Heartbeat("h1", Now, udpRate: 7));
        state.Apply(FleetRecords.Heartbeat("h1", Now - 10_000, udpRate: 99));
        var row = state.Find("h1")!;
        Assert.Equal(Now, row.LastHeartbeatMs);
        Assert.Equal(7, row.EventsPerSecond);
    }

    [Fact]
    public void The_latest_sensor_alarm_is_kept_and_readings_under_threshold_are_not_alarms()
    {
        var state = new FleetState();
        state.Apply(FleetRecords.Sensor("h1", "ring", 2_000, sensor: 4, milli: 91_000, threshold: 80_000));
        state.Apply(FleetRecords.Sensor("h1", "netlink", 3_000, sensor: 5, milli: 85_000, threshold: 80_000));
        state.Apply(FleetRecords.Sensor("h1", "ring", 1_000, sensor: 6, milli: 99_000, threshold: 80_000)); // older
        state.Apply(FleetRecords.Sensor("h1", "ring", 4_000, sensor: 7, milli: 20_000, threshold: 80_000)); // no alarm
        var alarm = state.Find("h1")!.Alarm!;
        Assert.Equal((5UL, 85_000L, "netlink"), (alarm.SensorId, alarm.MilliCelsius, alarm.Channel));
    }

    [Fact]
    public void Other_channels_are_skipped_after_the_envelope()
    {
        var state = new FleetState();
        state.Apply(FleetRecords.Datagrams("h1", 10));
        Assert.Equal(1, state.Records);
        Assert.Equal(0, state.Malformed);
        Assert.Null(state.Find("h1")?.Alarm);
        Assert.Equal(0, state.Heartbeats);
    }

    [Fact]
    public void Hostile_records_are_counted_never_thrown()
    {
        var state = new FleetState();
        var good = FleetRecords.Heartbeat("h1", Now);
        var random = new Random(13);
        var inputs = new List<byte[]> { Array.Empty<byte>(), new byte[] { 0xc1 }, new byte[] { 0x80 }, "garbage"u8.ToArray() };
        for (var cut = 1; cut < good.Length; cut += 3)
        {
            inputs.Add(good[..cut]);
        }

        for (var i = 0; i < 2000; i++)
        {
            var copy = (byte[])good.Clone();
            copy[random.Next(copy.Length)] = (byte)random.Next(256);
            inputs.Add(copy);
        }

        foreach (var input in inputs)
        {
            state.Apply(input);
        }

        Assert.Equal(inputs.Count, state.Records);
        Assert.True(state.Malformed >= 4 + ((good.Length - 1) / 3), $"malformed={state.Malformed}");

        // Still works afterwards.
        var after = new FleetState();
        after.Apply(good);
        Assert.Equal(1, after.Heartbeats);
    }

    [Fact]
    public void A_deeply_nested_unknown_field_is_counted_malformed_not_followed()
    {
        // An unknown envelope field 100,000 arrays deep: the bounded skip stops at the fleet
        // view's depth limit (the library's own skip has none).
        var good = FleetRecords.Heartbeat("h1", Now);
        var nested = new byte[100_001];
        nested.AsSpan(0, 100_000).Fill(0x91);
        nested[^1] = 0xc0;
        byte[] hostile = [0x86, .. good.AsSpan(1), 0xa1, (byte)'x', .. nested];
        var state = new FleetState();
        state.Apply(hostile);
        Assert.Equal(1, state.Malformed);
        Assert.Contains("depth", state.LastError, StringComparison.Ordinal);

        // The same field 8 deep is skipped and the heartbeat read.
        byte[] shallow = [0x86, .. good.AsSpan(1), 0xa1, (byte)'x', .. nested.AsSpan(100_000 - 8)];
        state.Apply(shallow);
        Assert.Equal(1, state.Heartbeats);
    }

    [Fact]
    public void Reading_a_known_hosts_heartbeat_again_allocates_nothing()
    {
        var state = new FleetState();
        var records = Enumerable.Range(0, 100).Select(i => FleetRecords.Heartbeat($"host-{i:D4}", Now + i, udpRate: i, lastStatus: "applied")).ToArray();
        foreach (var r in records)
        {
            state.Apply(r);
        }

        var allocated = Ingest.Testing.SteadyAllocation.Bytes(
            () =>
            {
                foreach (var r in records)
                {
                    state.Apply(r);
                }
            },
            repetitions: 3,
            warmUp: 1);

        Assert.Equal(0, allocated);
        Assert.Equal(1100, state.Heartbeats);
    }

    [Fact]
    public void Query_filters_by_glob_and_sorts_with_host_as_tie_breaker()
    {
        var state = new FleetState();
        state.Apply(FleetRecords.Heartbeat("line1-a", Now, udpRate: 5));
        state.Apply(FleetRecords.Heartbeat("line1-b", Now - 60_000, udpRate: 50));
        state.Apply(FleetRecords.Heartbeat("line2-a", Now, udpRate: 500));

        var byEvents = new FleetQuery { Sort = FleetSort.Events }.Select(state.Hosts, Now);
        Assert.Equal(["line2-a", "line1-b", "line1-a"], byEvents.Select(h => h.Host));
        var line1 = new FleetQuery { HostGlob = "line1-*", Sort = FleetSort.Seen }.Select(state.Hosts, Now);
        Assert.Equal(["line1-b", "line1-a"], line1.Select(h => h.Host));
        var limited = new FleetQuery { Limit = 1 }.Select(state.Hosts, Now);
        Assert.Equal(["line1-a"], limited.Select(h => h.Host));
    }

    [Fact]
    public void Json_lists_hosts_with_stale_flags()
    {
        var state = new FleetState();
        state.Apply(FleetRecords.Heartbeat("fresh", Now, interval: 1));
        state.Apply(FleetRecords.Heartbeat("silent", Now - 5_000, interval: 1));
        state.Apply(FleetRecords.Sensor("fresh", "ring", Now * 1_000_000, 3, 90_000, 80_000));
        using var output = new MemoryStream();
        FleetJson.Write(output, state, new FleetQuery().Select(state.Hosts, Now), Now);

        using var doc = JsonDocument.Parse(output.ToArray());
        var hosts = doc.RootElement.GetProperty("hosts").EnumerateArray().ToDictionary(h => h.GetProperty("host").GetString()!);
        Assert.False(hosts["fresh"].GetProperty("stale").GetBoolean());
        Assert.True(hosts["silent"].GetProperty("stale").GetBoolean());
        Assert.Equal(3UL, hosts["fresh"].GetProperty("alarm").GetProperty("sensor_id").GetUInt64());
        Assert.Equal(1, doc.RootElement.GetProperty("stale").GetInt32());
    }
}
