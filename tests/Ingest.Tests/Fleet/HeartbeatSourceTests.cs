using System.Text.Json;
using Ingest.Commands;
using Ingest.Encoding;
using Ingest.Fleet;
using Ingest.Heartbeat;
using Ingest.Pipeline;
using Ingest.Telemetry;
using Ingest.Tests.Pipeline;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Tests.Fleet;

public class HeartbeatSourceTests
{
    [Fact]
    public async Task Heartbeats_go_through_the_pipeline_with_the_daemons_figures()
    {
        var udp = new ScriptedSource("udp", "127.0.0.1:5555");
        var heartbeat = new HeartbeatSource(new HeartbeatOptions { IntervalSeconds = 0.2 });
        var publisher = new FakePublisher();
        await using var graph = new PipelineGraph(new PipelineOptions(), "sensor-7", [udp, heartbeat], publisher, NullLogger.Instance);
        heartbeat.Stats = () => new StatsSnapshot { UptimeSeconds = 42, Sources = graph.Stats.Select(StatsSnapshot.Capture).ToList() };
        heartbeat.CommandState = () => "running";
        heartbeat.LastCommand = () => new CommandOutcome("c-9", CommandStatus.Denied, "sysctl", 1234);
        heartbeat.Spool = () => new SpoolBacklog(3, 4096);
        graph.Start();

        // Events between two heartbeats show as a rate in the later one; later ones say 0.
        await HeartbeatsAsync(publisher, h => h.Count >= 1);
        udp.Emit(25);
        var heartbeats = await HeartbeatsAsync(publisher, h => h.FindIndex(b => Udp(b, "received") == 25) is var first && first >= 0 && h.Count >= first + 2);
        var firstWith25 = heartbeats.FindIndex(b => Udp(b, "received") == 25);
        Assert.True(Udp(heartbeats[firstWith25], "received_per_s") > 0);
        Assert.Equal(0, Udp(heartbeats[^1], "received_per_s"));

        var last = heartbeats[^1];
        Assert.Equal(("sensor-7", "ingest", "heartbeat", "heartbeat"), (last.GetProperty("host").GetString(), last.GetProperty("channel").GetString(), last.GetProperty("source").GetString(), last.GetProperty("type").GetString()));
        var data = last.GetProperty("data");
        Assert.Equal(HeartbeatSource.Version, data.GetProperty("version").GetString());
        Assert.Equal(42, data.GetProperty("uptime_s").GetDouble());
        Assert.Equal(0.2, data.GetProperty("interval_s").GetDouble());
        var udpFigures = data.GetProperty("channels").GetProperty("udp");
        Assert.Equal(25, udpFigures.GetProperty("received").GetInt64());
        Assert.Equal(25, udpFigures.GetProperty("delivered").GetInt64());
        Assert.Equal(0, udpFigures.GetProperty("dropped").GetInt64());
        Assert.True(data.GetProperty("channels").GetProperty("ingest").GetProperty("received").GetInt64() >= 2, "the heartbeats count themselves");
        Assert.Equal(4096, data.GetProperty("spool").GetProperty("bytes").GetInt64());
        Assert.Equal("running", data.GetProperty("commands").GetProperty("state").GetString());
        Assert.Equal("denied", data.GetProperty("commands").GetProperty("last").GetProperty("status").GetString());
        Assert.True(data.GetProperty("rss_bytes").GetInt64() > 1_000_000);
        Assert.True(data.GetProperty("cpu_s").GetDouble() > 0);

        // Seq numbers of the heartbeat source are contiguous: none lost on the way.
        Assert.Equal(Enumerable.Range(0, heartbeats.Count).Select(i => (ulong)i), heartbeats.Select(h => h.GetProperty("seq").GetUInt64()));

        // And the fleet view reads back what the source wrote.
        // (Heartbeats go on meanwhile: count those in the same snapshot.)
        var state = new FleetState();
        var records = publisher.Snapshot();
        foreach (var record in records)
        {
            state.Apply(record.Value);
        }

        var row = state.Find("sensor-7")!;
        Assert.Equal(records.Select(r => RecordDecoder.Decode(r.Value)).Where(d => d.Channel == "ingest").Sum(d => d.Events.Count), row.Heartbeats);
        Assert.True(row.Heartbeats >= heartbeats.Count);
        Assert.Equal(25, row.Channels.Single(c => c.Name == "udp").Received);
        Assert.Equal(4096, row.SpoolBytes);
        Assert.Equal(("denied", "c-9"), (row.LastCommandStatus, row.LastCommandId));
        Assert.Equal(0, state.Malformed);
    }

    private static double Udp(JsonElement heartbeat, string field) =>
        heartbeat.GetProperty("data").GetProperty("channels").TryGetProperty("udp", out var udp) ? udp.GetProperty(field).GetDouble() : -1;

    private static async Task<List<JsonElement>> HeartbeatsAsync(FakePublisher publisher, Func<List<JsonElement>, bool> enough)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var heartbeats = publisher.Snapshot()
                .Select(r => RecordDecoder.Decode(r.Value))
                .Where(d => d.Channel == "ingest")
                .SelectMany(RecordDecoder.EventsAsJson)
                .Select(j => JsonDocument.Parse(j).RootElement.Clone())
                .ToList();
            if (enough(heartbeats))
            {
                return heartbeats;
            }

            Assert.True(DateTime.UtcNow < deadline, $"timed out with {heartbeats.Count} heartbeats");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public void Interval_out_of_range_is_refused()
    {
        Assert.Throws<ConfigurationException>(() => new HeartbeatSource(new HeartbeatOptions { IntervalSeconds = 0 }));
        Assert.Throws<ConfigurationException>(() => new HeartbeatSource(new HeartbeatOptions { IntervalSeconds = 4000 }));
    }
}
