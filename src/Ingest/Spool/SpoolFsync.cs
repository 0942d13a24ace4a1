namespace Ingest.Spool;

/// <summary>
/// When appended frames are forced to stable storage. A SIGKILL never loses a completed append
/// (the page cache outlives the process); fsync matters only for a power loss or kernel crash.
/// </summary>
public enum SpoolFsync
{
    /// <summary>Never: the kernel writes back on its own schedule (cheapest).</summary>
    Never,

    /// <summary>At most every <see cref="SpoolOptions.FsyncIntervalMs"/>, and on close (default).</summary>
    Interval,

    /// <summary>After every append: a power loss loses nothing appended (slowest).</summary>
    Always,
}
