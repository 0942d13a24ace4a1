using System.Net;
using System.Net.Sockets;
using Testcontainers.Kafka;

namespace Ingest.RealKafka.Tests;

/// <summary>
/// Apache Kafka (apache/kafka, KRaft, one combined broker/controller node) in Docker through
/// Testcontainers.Kafka's <see cref="KafkaBuilder"/>, which knows the image's listeners and
/// readiness. The host port is fixed before start so that the advertised listener (built from the
/// mapped port) stays right across a container stop/start (a restart keeps the log directory).
/// </summary>
public sealed class ApacheKafkaContainer : IKafkaUnderTest
{
    public const string Image = "apache/kafka:4.1.0";

    private readonly KafkaContainer _container;

    private ApacheKafkaContainer(int hostPort)
    {
        Bootstrap = $"127.0.0.1:{hostPort}";
        _container = new KafkaBuilder(Image)
            .WithKRaft()
            .WithPortBinding(hostPort, KafkaBuilder.KafkaPort)
            .WithEnvironment("KAFKA_NUM_PARTITIONS", "4")
            .Build();
    }

    public string Bootstrap { get; }

    public static async Task<ApacheKafkaContainer> StartAsync()
    {
        var kafka = new ApacheKafkaContainer(FreeTcpPort());
        await kafka._container.StartAsync();
        // The builder advertises host:mapped-port; the scenarios connect to 127.0.0.1:<fixed port>.
        string advertised = kafka._container.GetBootstrapAddress();
        if (!advertised.EndsWith($":{kafka.Bootstrap[(kafka.Bootstrap.LastIndexOf(':') + 1)..]}", StringComparison.Ordinal))
        {
            await kafka.DisposeAsync();
            throw new InvalidOperationException($"Kafka advertises {advertised}, not the fixed port of {kafka.Bootstrap}");
        }

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
