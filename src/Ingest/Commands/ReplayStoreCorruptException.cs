namespace Ingest.Commands;

/// <summary>The replay store cannot be trusted: the command path refuses to start (fail closed).</summary>
public sealed class ReplayStoreCorruptException(string message) : Exception(message);
