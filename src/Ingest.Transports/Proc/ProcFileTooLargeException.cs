namespace Ingest.Transports.Proc;

/// <summary>A file past <see cref="ProcScrapeOptions.MaxFileBytes"/> (counted as "too_large").</summary>
public sealed class ProcFileTooLargeException(string message) : IOException(message);
