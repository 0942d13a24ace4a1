using Ingest.Transports.Events;

namespace Ingest.Transports.Proc;

/// <summary>
/// Turns the whole text of one /proc file into one event. Parsers work on the bytes (the files
/// are ASCII) and keep what they learn between scrapes (names), so steady scrapes allocate little.
/// </summary>
public interface IProcParser
{
    /// <summary>The name options use to pick it: "net_dev", "stat", "meminfo", "loadavg", "lines".</summary>
    string Name { get; }

    EventName EventType { get; }

    /// <summary>
    /// Checks all of <paramref name="content"/> first and throws <see cref="ProcFormatException"/>
    /// when it is malformed, before anything is written; otherwise writes exactly one event.
    /// </summary>
    void Write(ReadOnlySpan<byte> content, long timestampNs, EventWriter writer);
}
