namespace Ingest.Bench;

/// <summary>One benchmark. It runs its scenario <see cref="BenchContext.Runs"/> times and reports medians.</summary>
public interface IBenchmark
{
    /// <summary>Short name used on the command line: "udp", "ring", "netlink", ...</summary>
    string Name { get; }

    string Description { get; }

    Task RunAsync(BenchContext context, CancellationToken cancellationToken);
}
