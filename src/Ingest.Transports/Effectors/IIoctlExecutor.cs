namespace Ingest.Transports.Effectors;

/// <summary>Runs allowlisted ioctls on a device; the command path depends only on this.</summary>
public interface IIoctlExecutor
{
    /// <summary>The ioctls this executor knows, with their uapi argument ranges.</summary>
    IReadOnlyList<IoctlDefinition> Definitions { get; }

    /// <summary>Runs <paramref name="definition"/> with arguments bound by <see cref="IoctlDefinition.TryBind"/>.</summary>
    IoctlOutcome Execute(IoctlDefinition definition, ReadOnlySpan<long> values);
}
