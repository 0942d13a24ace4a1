using System.CommandLine;
using Ingest.Sinks.Broker;

namespace Ingest.Cli;

internal static class BrokerCommand
{
    public static Command Create()
    {
        var brokers = new Option<int>("--brokers", "-n") { Description = "Brokers in the cluster.", DefaultValueFactory = _ => 1 };
        var command = new Command("broker", "Run the embedded Kafka-protocol broker (librdkafka's mock cluster) in the foreground until SIGTERM/SIGINT. Prints bootstrap=<servers> as the first line. For development and tests: it keeps about 5 MiB per partition.")
        {
            brokers,
        };
        command.SetAction(async (parse, _) =>
        {
            var n = parse.GetValue(brokers);
            if (n is < 1 or > 16)
            {
                await Console.Error.WriteLineAsync($"ingest broker: --brokers must be between 1 and 16 (got {n})");
                return 2;
            }

            using var shutdown = new Shutdown();
            using var broker = EmbeddedBroker.Start(n);
            Console.WriteLine($"bootstrap={broker.BootstrapServers}");
            Console.Out.Flush();
            await Console.Error.WriteLineAsync($"ingest broker: {n} broker(s) listening; SIGTERM or Ctrl-C stops");
            try
            {
                await Task.Delay(Timeout.Infinite, shutdown.Token);
            }
            catch (OperationCanceledException)
            {
            }

            return 0;
        });
        return command;
    }
}
