namespace Ingest;

/// <summary>Bad configuration: the message says which setting and what it accepts.</summary>
public sealed class ConfigurationException(string message) : Exception(message);
