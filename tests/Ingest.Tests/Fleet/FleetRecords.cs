using Ingest.Tests.Encoding;
using Lib = global::MessagePack;

namespace Ingest.Tests.Fleet;

/// <summary>kernel.events record values (docs/wire-format.md) built with MessagePack-CSharp's writer, for the fleet view's unit tests.</summary>
internal static class FleetRecords
{
    public static byte[] Heartbeat(string host, long tsMs, double interval = 10, long udpReceived = 0, double udpRate = 0, long dropped = 0, string? lastStatus = null)
    {
        return Msgpack.Build((ref Lib.MessagePackWriter w) =>
        {
            Envelope(ref w, host, "ingest", "heartbeat");
            w.WriteArrayHeader(1);
            Event(ref w, "heartbeat", tsMs * 1_000_000, 0);
            w.WriteMapHeader(7);
            w.Write("version");
            w.Write("test");
            w.Write("uptime_s");
            w.Write(12.5);
            w.Write("interval_s");
            w.Write(interval);
            w.Write("channels");
            w.WriteMapHeader(1);
            w.Write("udp");
            w.WriteMapHeader(6);
            w.Write("received");
            w.Write(udpReceived);
            w.Write("delivered");
            w.Write(udpReceived - dropped);
            w.Write("dropped");
            w.Write(dropped);
            w.Write("received_per_s");
            w.Write(udpRate);
            w.Write("delivered_per_s");
            w.Write(udpRate);
            w.Write("dropped_per_s");
            w.Write(0.0);
            w.Write("spool");
            w.WriteNil();
            w.Write("commands");
            w.WriteMapHeader(2);
            w.Write("state");
            w.Write("running");
            w.Write("last");
            if (lastStatus is null)
            {
                w.WriteNil();
            }
            else
            {
                w.WriteMapHeader(4);
                w.Write("id");
                w.Write("c-1");
                w.Write("status");
                w.Write(lastStatus);
                w.Write("op");
                w.Write("sysctl");
                w.Write("at_ms");
                w.Write(tsMs);
            }

            w.Write("rss_bytes");
            w.Write(50_000_000L);
        });
    }

    public static byte[] Sensor(string host, string channel, long tsNs, ulong sensor, long milli, long threshold)
    {
        return Msgpack.Build((ref Lib.MessagePackWriter w) =>
        {
            Envelope(ref w, host, channel, "/dev/kingest");
            w.WriteArrayHeader(1);
            Event(ref w, "sensor", tsNs, 0);
            w.WriteMapHeader(5);
            w.Write("kseq");
            w.Write(1UL);
            w.Write("sensor_id");
            w.Write(sensor);
            w.Write("milli_celsius");
            w.Write(milli);
            w.Write("threshold_mc");
            w.Write(threshold);
            w.Write("alarm");
            w.Write(milli > threshold);
        });
    }

    public static byte[] Datagrams(string host, int count)
    {
        return Msgpack.Build((ref Lib.MessagePackWriter w) =>
        {
            Envelope(ref w, host, "udp", "127.0.0.1:5555");
            w.WriteArrayHeader(count);
            for (var i = 0; i < count; i++)
            {
                Event(ref w, "datagram", 1, (ulong)i);
                w.WriteMapHeader(2);
                w.Write("src");
                w.Write("127.0.0.1:40000");
                w.Write("payload");
                w.Write(new byte[32]);
            }

        });
    }

    private static void Envelope(ref Lib.MessagePackWriter w, string host, string channel, string source)
    {
        w.WriteMapHeader(5);
        w.Write("v");
        w.Write(1L);
        w.Write("host");
        w.Write(host);
        w.Write("channel");
        w.Write(channel);
        w.Write("source");
        w.Write(source);
        w.Write("events");
    }

    private static void Event(ref Lib.MessagePackWriter w, string type, long tsNs, ulong seq)
    {
        w.WriteMapHeader(4);
        w.Write("seq");
        w.Write(seq);
        w.Write("ts");
        w.Write(tsNs);
        w.Write("type");
        w.Write(type);
        w.Write("data");
    }
}
