using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Ingest.Transports.Events;
using Ingest.Transports.Kingest;
using Ingest.Transports.Tests.Fakes;
using Ingest.Transports.Udp;
using Tmds.Linux;

namespace Ingest.Transports.Tests.Kingest;

public sealed class KingestDatagramParserTests
{
    [Fact]
    public void Decodes_each_type_into_typed_fields_stamped_with_the_record_time()
    {
        var counters = new CounterSet();
        var parser = new KingestDatagramParser(counters);
        var writer = new RecordingEventWriter();

        Assert.True(parser.Write(writer, Datagram(KingestEventType.Sensor, 1, Bytes(new KingestSensorReading { SensorId = 3, MilliCelsius = -18250, ThresholdMc = -15000, Flags = 0 }))));
        var image = new byte[KingestThermalImage.Size + 5];
        MemoryMarshal.Write(image, new KingestThermalImage { SensorId = 0, Frame = 250, PixelSize = 5 });
        for (int i = 0; i < 5; i++)
        {
            image[KingestThermalImage.Size + i] = (byte)(250 + i);
        }

        Assert.True(parser.Write(writer, Datagram(KingestEventType.Image, 2, image)));
        var netdev = Bytes(new KingestNetdevEvent { IfIndex = 7, Event = (uint)KingestNetdevEventKind.Down, Flags = 0x1002, Mtu = 9000 });
        Encoding.ASCII.GetBytes("eth0").CopyTo(netdev, 16);
        Assert.True(parser.Write(writer, Datagram(KingestEventType.Netdev, 3, netdev)));
        Assert.True(parser.Write(writer, Datagram(KingestEventType.Inject, 4, [0xde, 0xad])));
        writer.Flush();

        var events = writer.Snapshot();
        Assert.Equal(4, events.Count);
        var sensor = events[0];
        Assert.Equal("sensor", sensor.Type);
        Assert.Equal(1_700_000_000_000_000_001L, sensor.TimestampNs);
        Assert.Equal(1UL, sensor.Get<ulong>("kseq"));
        Assert.Equal(3UL, sensor.Get<ulong>("sensor_id"));
        Assert.Equal(-18250L, sensor.Get<long>("milli_celsius"));
        Assert.Equal(-15000L, sensor.Get<long>("threshold_mc"));
        Assert.False(sensor.Get<bool>("alarm"));
        Assert.Equal("image", events[1].Type);
        Assert.Equal(250UL, events[1].Get<ulong>("frame"));
        Assert.Equal(new byte[] { 250, 251, 252, 253, 254 }, events[1].Get<byte[]>("pixels"));
        Assert.Equal("netdev", events[2].Type);
        Assert.Equal("eth0", events[2].Get<string>("ifname"));
        Assert.Equal("down", events[2].Get<string>("event"));
        Assert.Equal(7UL, events[2].Get<ulong>("ifindex"));
        Assert.Equal(9000UL, events[2].Get<ulong>("mtu"));
        Assert.Equal("inject", events[3].Type);
        Assert.Equal(new byte[] { 0xde, 0xad }, events[3].Get<byte[]>("payload"));
        Assert.All(counters.All, c => Assert.Equal(0, c.Value));
    }

    [Fact]
    public void Malformed_datagrams_are_counted_not_fatal_and_write_nothing()
    {
        var counters = new CounterSet();
        var parser = new KingestDatagramParser(counters);
        var writer = new RecordingEventWriter();
        var sensor = Bytes(new KingestSensorReading { SensorId = 1 });

        Assert.False(parser.Write(writer, new byte[10])); // shorter than a header
        var longer = Datagram(KingestEventType.Sensor, 1, sensor);
        Assert.False(parser.Write(writer, longer.AsSpan(0, longer.Length - 1))); // len != datagram length
        Assert.False(parser.Write(writer, Datagram(KingestEventType.Sensor, 2, sensor, channel: KingestChannel.Ring))); // wrong channel
        Assert.False(parser.Write(writer, Datagram(KingestEventType.Pad, 3, sensor))); // pad is ring-only
        Assert.False(parser.Write(writer, Datagram(KingestEventType.Sensor, 4, new byte[4]))); // payload too short
        Assert.False(parser.Write(writer, Datagram((KingestEventType)77, 5, sensor))); // unknown type
        Assert.True(parser.Write(writer, Datagram(KingestEventType.Sensor, 6, sensor))); // neighbours still decode
        writer.Flush();

        Assert.Single(writer.Snapshot());
        Assert.Equal(5, counters["malformed"].Value);
        Assert.Equal(1, counters["unknown_type"].Value);
    }

    [Fact]
    public void Counts_events_the_module_numbered_that_never_arrived()
    {
        var counters = new CounterSet();
        var parser = new KingestDatagramParser(counters);
        var writer = new RecordingEventWriter();
        foreach (ulong seq in (ulong[])[1, 2, 5, 6, 10])
        {
            Assert.True(parser.Write(writer, Datagram(KingestEventType.Inject, seq, [1])));
        }

        Assert.Equal(2 + 3, counters["sequence_gap"].Value);
    }

    [Fact]
    public async Task UdpSource_in_kingest_format_decodes_real_datagrams_from_a_socket()
    {
        using var source = new UdpSource(new UdpSourceOptions { Endpoint = "127.0.0.1:0", Format = UdpDatagramFormat.Kingest });
        var writer = new RecordingEventWriter();
        using var stop = new CancellationTokenSource();
        var run = source.RunAsync(writer, stop.Token);

        using var client = new UdpClient(AddressFamily.InterNetwork);
        var sensor = Bytes(new KingestSensorReading { SensorId = 2, MilliCelsius = 4500, ThresholdMc = 4000, Flags = KingestAbi.SensorAlarm });
        await client.SendAsync(Datagram(KingestEventType.Sensor, 1, sensor), source.LocalEndPoint, TestContext.Current.CancellationToken);
        await client.SendAsync(new byte[] { 1, 2, 3 }, source.LocalEndPoint, TestContext.Current.CancellationToken);
        await client.SendAsync(Datagram(KingestEventType.Inject, 2, [9]), source.LocalEndPoint, TestContext.Current.CancellationToken);

        var events = await writer.WaitForAsync(_ => true, 2);
        stop.Cancel();
        await run;

        Assert.Equal(2, events.Count);
        Assert.Equal("sensor", events[0].Type);
        Assert.True(events[0].Get<bool>("alarm"));
        Assert.Equal(4500L, events[0].Get<long>("milli_celsius"));
        Assert.Equal("inject", events[1].Type);
        Assert.Equal(1, source.Counters["malformed"].Value);
    }

    [Fact]
    public async Task Decodes_the_datagrams_the_module_sends_when_it_is_loaded()
    {
        if (!File.Exists(KingestAbi.DevicePath) || Tmds.Linux.LibC.geteuid() != 0)
        {
            Assert.Skip("needs the kernel module and root (run Ring/run-in-guest.sh)");
        }

        using var source = new UdpSource(new UdpSourceOptions { Endpoint = "127.0.0.1:0", Format = UdpDatagramFormat.Kingest });
        File.WriteAllText(KingestSysctl.PathOf(KingestSysctl.UdpAddress), "127.0.0.1");
        File.WriteAllText(KingestSysctl.PathOf(KingestSysctl.UdpPort), source.LocalEndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        File.WriteAllText(KingestSysctl.PathOf(KingestSysctl.UdpEnable), "1");
        var writer = new RecordingEventWriter();
        using var stop = new CancellationTokenSource();
        var run = source.RunAsync(writer, stop.Token);

        using var device = KingestDevice.Open();
        byte[] marker = Guid.NewGuid().ToByteArray();
        Assert.Equal(KingestChannelFlags.Udp, device.Inject(KingestChannelFlags.Udp, (ushort)KingestEventType.Inject, marker));
        var events = await writer.WaitForAsync(e => e.Type == "inject" && e.Get<byte[]>("payload").AsSpan().SequenceEqual(marker), 1, TimeSpan.FromSeconds(30));
        stop.Cancel();
        await run;

        Assert.Single(events);
        Assert.True(events[0].Get<ulong>("kseq") > 0);
        Assert.Equal(0, source.Counters["malformed"].Value);
    }

    private static byte[] Datagram(KingestEventType type, ulong seq, byte[] payload, KingestChannel channel = KingestChannel.Udp)
    {
        var bytes = new byte[KingestRecordHeader.Size + payload.Length];
        MemoryMarshal.Write(bytes, new KingestRecordHeader
        {
            Length = (uint)bytes.Length,
            Type = (ushort)type,
            Channel = (byte)channel,
            Seq = seq,
            TimestampNs = 1_700_000_000_000_000_000UL + seq,
        });
        payload.CopyTo(bytes, KingestRecordHeader.Size);
        return bytes;
    }

    private static byte[] Bytes<T>(T value)
        where T : unmanaged
    {
        var bytes = new byte[Marshal.SizeOf<T>()];
        MemoryMarshal.Write(bytes, value);
        return bytes;
    }
}
