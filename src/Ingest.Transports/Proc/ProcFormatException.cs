namespace Ingest.Transports.Proc;

/// <summary>A /proc file's text is not what its parser expects (counted as "parse_error").</summary>
public sealed class ProcFormatException(string message) : FormatException(message);
