namespace Ingest.Spool;

/// <summary>When records go through the on-disk spool (docs/architecture.md, "Durable spool").</summary>
public enum SpoolMode
{
    /// <summary>Only what the broker cannot take right now is written, then replayed in order.</summary>
    Overflow,

    /// <summary>Every record is written before it is produced: a SIGKILL loses at most the open batch.</summary>
    Always,

    /// <summary>No spool: what the broker cannot take is dropped and counted.</summary>
    Off,
}
