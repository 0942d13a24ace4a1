namespace Ingest.RealKafka.Tests;

/// <summary>A Kafka cluster the scenarios run against, with a way to take its broker away and back.</summary>
public interface IKafkaUnderTest : IAsyncDisposable
{
    /// <summary>bootstrap.servers for clients on this machine.</summary>
    string Bootstrap { get; }

    /// <summary>Stops the broker: connections drop, nothing is acknowledged until it returns.</summary>
    Task StopBrokerAsync();

    /// <summary>Brings the broker back with its data.</summary>
    Task StartBrokerAsync();
}
