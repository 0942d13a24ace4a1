using System.Net;
using System.Net.Sockets;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;

namespace Ingest.RealKafka.Tests;

/// <summary>
/// Apache Kafka (apache/kafka, KRaft, one combined broker/controller node) in Docker through
/// Testcontainers' generic builder. The host port is fixed before start so that the advertised
/// listener stays right across a container stop/start (a restart keeps the log directory).
/// </summary>
public sealed class ApacheKafkaContainer : IKafkaUnderTest
{
    public const string Image = "apache/kafka:4.1.0";

    private readonly IContainer _container;

    private ApacheKafkaContainer(int hostPort)
    {
        Bootstrap = $"127.0.0.1:{hostPort}";
        var builder = new ContainerBuilder(Image)
            .WithPortBinding(hostPort, 9092)
            .WithEnvironment("KAFKA_NODE_ID", "1")
            .WithEnvironment("KAFKA_PROCESS_ROLES", "broker,controller")
            .WithEnvironment("KAFKA_LISTENERS", "PLAINTEXT://:9092,CONTROLLER://:9093")
            .WithEnvironment("KAFKA_ADVERTISED_LISTENERS", $"PLAINTEXT://{Bootstrap}")
            .WithEnvironment("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT")
            .WithEnvironment("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER")
            .WithEnvironment("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@localhost:9093")
            .WithEnvironment("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
            .WithEnvironment("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
            .WithEnvironment("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
            .WithEnvironment("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0")
            .WithEnvironment("KAFKA_NUM_PARTITIONS", "4")
            .WithWaitStrategy(Wait.ForUnixContainer().UntilMessageIsLogged("Kafka Server started"));

        // Build() is declared on an interface generic over Docker.DotNet's CreateContainerParameters;
        // calling it late-bound keeps Docker.DotNet a run-time-only dependency, so the suite also
        // compiles where only the Testcontainers package itself can be restored (see the csproj).
        _container = (IContainer)typeof(ContainerBuilder).GetMethod("Build", Type.EmptyTypes)!.Invoke(builder, null)!;
    }

    public string Bootstrap { get; }

    public static async Task<ApacheKafkaContainer> StartAsync()
    {
        var kafka = new ApacheKafkaContainer(FreeTcpPort());
        await kafka._container.StartAsync();
        return kafka;
    }

    public Task StopBrokerAsync() => _container.StopAsync();

    public async Task StartBrokerAsync()
    {
        await _container.StartAsync();
        await WaitForPortAsync();
    }

    public ValueTask DisposeAsync() => _container.DisposeAsync();

    private static int FreeTcpPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private async Task WaitForPortAsync()
    {
        var port = int.Parse(Bootstrap[(Bootstrap.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }
}
