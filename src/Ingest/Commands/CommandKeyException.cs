namespace Ingest.Commands;

/// <summary>A key file that is missing, unreadable, malformed or has loose permissions.</summary>
public sealed class CommandKeyException(string message, Exception? inner = null) : Exception(message, inner);
