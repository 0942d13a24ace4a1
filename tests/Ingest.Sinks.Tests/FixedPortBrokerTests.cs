using System.Net;
using System.Net.Sockets;
using Confluent.Kafka;
using Ingest.Sinks.Broker;
using Ingest.Sinks.Kafka;
using static Ingest.Sinks.Tests.TestKafka;

namespace Ingest.Sinks.Tests;

/// <summary>The embedded broker served at fixed ports (relayed), as <c>ingest broker --port</c> uses it.</summary>
public sealed class FixedPortBrokerTests(ITestOutputHelper output)
{
    [Fact]
    public void FixedPorts_AreAdvertised_AndCarryProduceAndConsumeForEveryBroker()
    {
        int port = FreePortRange(3);
        using var broker = EmbeddedBroker.Start(brokers: 3, port: port);

        Assert.Equal($"127.0.0.1:{port},127.0.0.1:{port + 1},127.0.0.1:{port + 2}", broker.BootstrapServers);
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = $"127.0.0.1:{port + 2}" }).Build())
        {
            Assert.Equal(
                [(1, port), (2, port + 1), (3, port + 2)],
                admin.GetMetadata(Deadline).Brokers.Select(b => (b.BrokerId, b.Port)).Order());
        }

        // Partition leaders spread over the three brokers: every relay must reach the right one.
        string topic = UniqueTopic("fixed");
        broker.CreateTopic(topic, 6, replicationFactor: 3);
        var handler = new RecordingDeliveryHandler();
        using (var sink = new KafkaRecordSink(Options($"127.0.0.1:{port}"), Log(output)))
        {
            for (int i = 0; i < 120; i++)
            {
                Assert.True(sink.TryProduce(topic, Bytes($"k{i}"), Bytes($"v{i}"), [], handler, i));
            }

            Assert.Equal(0, sink.Flush(Deadline));
            Assert.Equal((120L, 0L), (sink.Counters.Delivered, sink.Counters.Failed));
        }

        Assert.Equal(6, handler.Reports.Select(r => r.Outcome.Partition).Distinct().Count());
        using var reader = new KafkaTopicReader($"127.0.0.1:{port + 1}", topic, fromBeginning: true);
        Assert.Equal(
            Enumerable.Range(0, 120).Select(i => $"v{i}").Order(),
            ReadAtLeast(reader, 120).Select(r => Text(r.Value)).Order());
    }

    [Fact]
    public void FixedPort_BrokerDownAndUp_PassesThroughTheRelay()
    {
        int port = FreePortRange(1);
        using var broker = EmbeddedBroker.Start(port: port);
        string topic = UniqueTopic("fixed-outage");
        broker.CreateTopic(topic, 1);
        var handler = new RecordingDeliveryHandler();
        using var sink = new KafkaRecordSink(Options(broker.BootstrapServers), Log(output));
        Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes("before"), [], handler, 0));
        Assert.Equal(0, sink.Flush(Deadline));

        broker.SetBrokerDown(1);
        Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes("during"), [], handler, 1));
        Assert.True(WaitUntil(() => sink.Counters.BrokerErrors > 0), sink.Counters.ToString());
        Assert.Equal(1, sink.Counters.InFlight);
        broker.SetBrokerUp(1);

        Assert.Equal(0, sink.Flush(Deadline));
        Assert.Equal((2L, 0L), (sink.Counters.Delivered, sink.Counters.Failed));
    }

    [Fact]
    public void FixedPort_InUse_FailsClearly()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var e = Assert.Throws<SocketException>(() => EmbeddedBroker.Start(port: port));
        Assert.Equal(SocketError.AddressAlreadyInUse, e.SocketErrorCode);
    }

    /// <summary>A base port whose <paramref name="count"/> consecutive loopback ports are free now.</summary>
    private static int FreePortRange(int count)
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int start = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            if (start + count - 1 <= IPEndPoint.MaxPort && Enumerable.Range(start, count).All(IsFree))
            {
                return start;
            }
        }

        throw new InvalidOperationException($"no {count} consecutive free ports found");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
