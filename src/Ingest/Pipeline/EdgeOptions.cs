namespace Ingest.Pipeline;

/// <summary>An explicit bounded buffer between two stages, with its when-full policy.</summary>
public sealed class EdgeOptions
{
    /// <summary>Items the edge holds: chunks on a source edge, records on the sink edge.</summary>
    public int Capacity { get; set; } = 64;

    public WhenFull WhenFull { get; set; } = WhenFull.Block;

    public void Validate(string name)
    {
        if (Capacity is < 1 or > 1_000_000)
        {
            throw new ConfigurationException($"{name}:Capacity must be between 1 and 1000000 (got {Capacity})");
        }
    }
}
