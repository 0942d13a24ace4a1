namespace Ingest.Transports.Effectors;

/// <summary>What one sysctl write did: the value read before, and the value read back after.</summary>
/// <param name="Before">The value before the write (trailing newline removed).</param>
/// <param name="After">The value read back after the write (trailing newline removed).</param>
public readonly record struct SysctlWriteResult(string Before, string After);
