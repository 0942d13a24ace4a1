namespace Ingest.Sinks.Commands;

/// <summary>Where a <see cref="KeyedPartitionReader"/> starts.</summary>
public enum KeyedPartitionStart
{
    /// <summary>The group's committed offset; the oldest retained record when there is none.</summary>
    Committed,

    /// <summary>The partition's high watermark when the reader opens: only records produced afterwards.</summary>
    End,
}
