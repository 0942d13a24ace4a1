using Ingest.Encoding.MessagePack;

namespace Ingest.Tests.Fleet;

/// <summary>Hand-built kernel.events record values (docs/wire-format.md) for the fleet view's unit tests.</summary>
internal static class FleetRecords
{
    public static byte[] Heartbeat(string host, long tsMs, double interval = 10, long udpReceived = 0, double udpRate = 0, long dropped = 0, string? lastStatus = null)
    {
        using var w = Envelope(host, "ingest", "heartbeat");
        w.WriteArrayHeader(1);
        Event(w, "heartbeat", tsMs * 1_000_000, 0);
        w.WriteMapHeader(7);
        w.WriteString("version");
        w.WriteString("test");
        w.WriteString("uptime_s");
        w.Write(12.5);
        w.WriteString("interval_s");
        w.Write(interval);
        w.WriteString("channels");
        w.WriteMapHeader(1);
        w.WriteString("udp");
        w.WriteMapHeader(6);
        w.WriteString("received");
        w.Write(udpReceived);
        w.WriteString("delivered");
        w.Write(udpReceived - dropped);
        w.WriteString("dropped");
        w.Write(dropped);
        w.WriteString("received_per_s");
        w.Write(udpRate);
        w.WriteString("delivered_per_s");
        w.Write(udpRate);
        w.WriteString("dropped_per_s");
        w.Write(0.0);
        w.WriteString("spool");
        w.WriteNil();
        w.WriteString("commands");
        w.WriteMapHeader(2);
        w.WriteString("state");
        w.WriteString("running");
        w.WriteString("last");
        if (lastStatus is null)
        {
            w.WriteNil();
        }
        else
        {
            w.WriteMapHeader(4);
            w.WriteString("id");
            w.WriteString("c-1");
            w.WriteString("status");
            w.WriteString(lastStatus);
            w.WriteString("op");
            w.WriteString("sysctl");
            w.WriteString("at_ms");
            w.Write(tsMs);
        }

        w.WriteString("rss_bytes");
        w.Write(50_000_000L);
        return w.ToArray();
    }

    public static byte[] Sensor(string host, string channel, long tsNs, ulong sensor, long milli, long threshold)
    {
        using var w = Envelope(host, channel, "/dev/kingest");
        w.WriteArrayHeader(1);
        Event(w, "sensor", tsNs, 0);
        w.WriteMapHeader(5);
        w.WriteString("kseq");
        w.Write(1UL);
        w.WriteString("sensor_id");
        w.Write(sensor);
        w.WriteString("milli_celsius");
        w.Write(milli);
        w.WriteString("threshold_mc");
        w.Write(threshold);
        w.WriteString("alarm");
        w.Write(milli > threshold);
        return w.ToArray();
    }

    public static byte[] Datagrams(string host, int count)
    {
        using var w = Envelope(host, "udp", "127.0.0.1:5555");
        w.WriteArrayHeader(count);
        for (var i = 0; i < count; i++)
        {
            Event(w, "datagram", 1, (ulong)i);
            w.WriteMapHeader(2);
            w.WriteString("src");
            w.WriteString("127.0.0.1:40000");
            w.WriteString("payload");
            w.WriteBinary(new byte[32]);
        }

        return w.ToArray();
    }

    private static MessagePackWriter Envelope(string host, string channel, string source)
    {
        var w = new MessagePackWriter();
        w.WriteMapHeader(5);
        w.WriteString("v");
        w.Write(1L);
        w.WriteString("host");
        w.WriteString(host);
        w.WriteString("channel");
        w.WriteString(channel);
        w.WriteString("source");
        w.WriteString(source);
        w.WriteString("events");
        return w;
    }

    private static void Event(MessagePackWriter w, string type, long tsNs, ulong seq)
    {
        w.WriteMapHeader(4);
        w.WriteString("seq");
        w.Write(seq);
        w.WriteString("ts");
        w.Write(tsNs);
        w.WriteString("type");
        w.WriteString(type);
        w.WriteString("data");
    }
}
