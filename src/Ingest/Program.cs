using System.CommandLine;
using Ingest.Cli;

var root = new RootCommand("Ingest: Linux kernel events into Kafka, signed commands back into the kernel.")
{
    RunCommand.Create(),
    BrokerCommand.Create(),
    TailCommand.Create(),
    StatsCommand.Create(),
    SendCommand.Create(),
    FleetCommand.Create(),
    KeygenCommand.Create(),
};

// Termination is handled by each command (flush before exit), not by System.CommandLine's
// default two-second grace period.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
