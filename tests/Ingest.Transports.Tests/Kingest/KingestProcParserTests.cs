using System.Text;
using Ingest.Transports.Proc;
using Ingest.Transports.Tests.Fakes;

namespace Ingest.Transports.Tests.Kingest;

/// <summary>
/// /proc/kingest/{stats,sensors} parsers against texts in the module's exact seq_file format
/// (kmodule/src/proc.c: "%s emitted %lld dropped %lld errors %lld\n" and "%u %d %d %llu %d\n").
/// </summary>
public sealed class KingestProcParserTests
{
    private const string Stats =
        "ring emitted 1200 dropped 3 errors 0\n" +
        "genl emitted 1203 dropped 0 errors 0\n" +
        "signal emitted 0 dropped 1203 errors 0\n" +
        "upcall emitted 0 dropped 0 errors 0\n" +
        "udp emitted 1190 dropped 13 errors 2\n" +
        "proc emitted 48 dropped 0 errors 0\n";

    private const string Sensors =
        "0 -18250 -15000 1763780000123456789 0\n" +
        "1 -14000 -15000 1763780000123456790 1\n" +
        "2 0 5000 0 0\n";

    [Fact]
    public void Stats_become_a_map_per_channel_in_file_order()
    {
        var e = Parse(new KingestStatsParser(), Stats);

        Assert.Equal("proc.kingest.stats", e.Type);
        Assert.Equal(["ring", "genl", "signal", "upcall", "udp", "proc"], e.Data.Keys);
        var udp = (Dictionary<string, object?>)e.Data["udp"]!;
        Assert.Equal(1190UL, udp["emitted"]);
        Assert.Equal(13UL, udp["dropped"]);
        Assert.Equal(2UL, udp["errors"]);
        Assert.Equal(1203UL, ((Dictionary<string, object?>)e.Data["signal"]!)["dropped"]);
    }

    [Fact]
    public void Sensors_become_an_array_of_typed_readings()
    {
        var e = Parse(new KingestSensorsParser(), Sensors);

        Assert.Equal("proc.kingest.sensors", e.Type);
        var sensors = (List<object?>)e.Data["sensors"]!;
        Assert.Equal(3, sensors.Count);
        var first = (Dictionary<string, object?>)sensors[0]!;
        Assert.Equal(0UL, first["sensor_id"]);
        Assert.Equal(-18250L, first["milli_celsius"]);
        Assert.Equal(-15000L, first["threshold_mc"]);
        Assert.Equal(1763780000123456789UL, first["ts_ns"]);
        Assert.Equal(false, first["alarm"]);
        Assert.Equal(true, ((Dictionary<string, object?>)sensors[1]!)["alarm"]);
    }

    [Fact]
    public void An_empty_sensors_file_is_an_empty_array()
    {
        var e = Parse(new KingestSensorsParser(), string.Empty);
        Assert.Empty((List<object?>)e.Data["sensors"]!);
    }

    [Fact]
    public void The_paths_pick_these_parsers()
    {
        Assert.Equal("kingest_stats", ProcParsers.NameForPath("/proc/kingest/stats"));
        Assert.Equal("kingest_sensors", ProcParsers.NameForPath("/proc/kingest/sensors"));
        Assert.IsType<KingestStatsParser>(ProcParsers.Create("kingest_stats", new ProcScrapeOptions(), new()));
        Assert.IsType<KingestSensorsParser>(ProcParsers.Create("kingest_sensors", new ProcScrapeOptions(), new()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("ring emitted 1 dropped 2\n")]
    [InlineData("ring emitted 1 dropped 2 errors x\n")]
    [InlineData("ring emitted 1 lost 2 errors 3\n")]
    [InlineData("ring emitted 1 dropped 2 errors 3 extra\n")]
    [InlineData("ring emitted -1 dropped 2 errors 3\n")]
    [InlineData("ring emitted 1 dropped 2 errors 3\nring emitted 1 dropped 2 errors 3\n")]
    public void Stats_reject_malformed_text_without_writing(string text) => Rejects(new KingestStatsParser(), text);

    [Theory]
    [InlineData("0 1 2 3\n")]
    [InlineData("0 1 2 3 2\n")]
    [InlineData("0 1.5 2 3 0\n")]
    [InlineData("64 1 2 3 0\n")]
    [InlineData("0 1 2 3 0 9\n")]
    [InlineData("0 99999999999 2 3 0\n")]
    [InlineData("-1 1 2 3 0\n")]
    public void Sensors_reject_malformed_text_without_writing(string text) => Rejects(new KingestSensorsParser(), text);

    [Fact]
    public void Sensors_reject_more_lines_than_the_module_has_sensors()
    {
        var text = new StringBuilder();
        for (int i = 0; i < 65; i++)
        {
            text.Append(i % 64).Append(" 1 2 3 0\n");
        }

        Rejects(new KingestSensorsParser(), text.ToString());
    }

    [Fact]
    public void Parse_the_live_files_when_the_module_is_loaded()
    {
        if (!File.Exists("/proc/kingest/stats"))
        {
            Assert.Skip("/proc/kingest is absent: the kernel module is not loaded (the host boots with nomodule)");
        }

        var stats = Parse(new KingestStatsParser(), File.ReadAllText("/proc/kingest/stats"));
        Assert.Contains("ring", stats.Data.Keys);
        Parse(new KingestSensorsParser(), File.ReadAllText("/proc/kingest/sensors"));
    }

    private static RecordedEvent Parse(IProcParser parser, string text)
    {
        var writer = new RecordingEventWriter();
        parser.Write(Encoding.ASCII.GetBytes(text), 42, writer);
        writer.Flush();
        var e = Assert.Single(writer.Snapshot());
        Assert.Equal(42, e.TimestampNs);
        return e;
    }

    private static void Rejects(IProcParser parser, string text)
    {
        var writer = new RecordingEventWriter();
        Assert.Throws<ProcFormatException>(() => parser.Write(Encoding.ASCII.GetBytes(text), 42, writer));
        writer.Flush();
        Assert.Empty(writer.Snapshot());
        Assert.Equal(0UL, writer.NextSequence);
    }
}
