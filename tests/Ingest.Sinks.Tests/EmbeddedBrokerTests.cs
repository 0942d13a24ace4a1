using Confluent.Kafka;
using Ingest.Sinks.Broker;
using Ingest.Sinks.Kafka;
using static Ingest.Sinks.Tests.TestKafka;

namespace Ingest.Sinks.Tests;

public sealed class EmbeddedBrokerTests(ITestOutputHelper output)
{
    [Fact]
    public void Start_ListensOnLoopback_WithOneAddressPerBroker()
    {
        using var broker = EmbeddedBroker.Start(brokers: 3);

        string[] addresses = broker.BootstrapServers.Split(',');
        Assert.Equal(3, broker.BrokerCount);
        Assert.Equal(3, addresses.Length);
        Assert.All(addresses, a => Assert.StartsWith("127.0.0.1:", a, StringComparison.Ordinal));
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build();
        Assert.Equal([1, 2, 3], admin.GetMetadata(Deadline).Brokers.Select(b => b.BrokerId).Order());
    }

    [Fact]
    public void CreateTopic_AndAutoCreate_GiveTheDeclaredPartitionCounts()
    {
        using var broker = EmbeddedBroker.Start();
        string created = UniqueTopic("created");
        string auto = UniqueTopic("auto");
        broker.CreateTopic(created, 5);

        using (var sink = new KafkaRecordSink(Options(broker.BootstrapServers), Log(output)))
        {
            var handler = new RecordingDeliveryHandler();
            Assert.True(sink.TryProduce(auto, Bytes("k"), Bytes("v"), [], handler, null));
            Assert.Equal(0, sink.Flush(Deadline));
            Assert.True(handler.Reports.Single().Outcome.Delivered);
        }

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build();
        Assert.Equal(5, admin.GetMetadata(created, Deadline).Topics.Single().Partitions.Count);
        Assert.Equal(EmbeddedBroker.AutoCreatedPartitions, admin.GetMetadata(auto, Deadline).Topics.Single().Partitions.Count);
    }

    [Fact]
    public void FaultInjection_RejectsUnknownBrokers_AndUseAfterDispose()
    {
        var broker = EmbeddedBroker.Start();
        Assert.Throws<InvalidOperationException>(() => broker.SetBrokerDown(42));
        Assert.Throws<ArgumentOutOfRangeException>(() => broker.CreateTopic("t", 0));
        broker.Dispose();
        broker.Dispose();
        Assert.Throws<ObjectDisposedException>(() => broker.SetBrokerUp(1));
    }

    [Fact]
    public async Task RunAsync_ServesUntilCancelled()
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        string? bootstrap = null;
        var ready = new TaskCompletionSource();
        Task run = EmbeddedBroker.RunAsync(1, [new("commands", 2)], b =>
        {
            bootstrap = b.BootstrapServers;
            ready.SetResult();
        }, cts.Token);
        await Task.WhenAny(ready.Task, run).WaitAsync(Deadline, TestContext.Current.CancellationToken);
        Assert.False(run.IsCompleted, run.Exception?.ToString());

        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build())
        {
            Assert.Equal(2, admin.GetMetadata("commands", Deadline).Topics.Single().Partitions.Count);
        }

        await cts.CancelAsync();
        await run.WaitAsync(Deadline, TestContext.Current.CancellationToken);
        Assert.True(run.IsCompletedSuccessfully);
    }
}
