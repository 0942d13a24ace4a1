namespace Ingest.Encoding.MessagePack;

/// <summary>The header of an extension value: its application-defined type and its data length.</summary>
public readonly record struct MessagePackExtensionHeader(sbyte Type, int Length);
