namespace Ingest.Heartbeat;

/// <summary>What the durable spool holds that the broker has not acknowledged yet.</summary>
public readonly record struct SpoolBacklog(long Records, long Bytes);
