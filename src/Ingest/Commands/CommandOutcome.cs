namespace Ingest.Commands;

/// <summary>The last command a host decided: what heartbeats report as the last command outcome.</summary>
/// <param name="Id">The command id (the claimed one for an invalid command; null if unreadable).</param>
/// <param name="Status">What happened.</param>
/// <param name="Op">The op, when known.</param>
/// <param name="AtMs">Unix time in ms when the host decided.</param>
public sealed record CommandOutcome(string? Id, CommandStatus Status, string? Op, long AtMs);
