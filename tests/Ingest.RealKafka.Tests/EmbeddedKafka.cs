using Ingest.Sinks.Broker;

namespace Ingest.RealKafka.Tests;

/// <summary>librdkafka's mock cluster: a restart is SetBrokerDown/SetBrokerUp (its log survives).</summary>
public sealed class EmbeddedKafka : IKafkaUnderTest
{
    private readonly EmbeddedBroker _broker = EmbeddedBroker.Start();

    public string Bootstrap => _broker.BootstrapServers;

    public Task StopBrokerAsync()
    {
        _broker.SetBrokerDown(1);
        return Task.CompletedTask;
    }

    public Task StartBrokerAsync()
    {
        _broker.SetBrokerUp(1);
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _broker.Dispose();
        return ValueTask.CompletedTask;
    }
}
