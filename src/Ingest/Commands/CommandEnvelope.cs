namespace Ingest.Commands;

/// <summary>The outer map of a command record: who signed (<paramref name="KeyId"/>), what, and the signature.</summary>
public readonly record struct CommandEnvelope(string KeyId, byte[] Body, byte[] Signature);
