namespace Ingest.Encoding.MessagePack;

/// <summary>
/// Limits a <see cref="MessagePackReader"/> enforces on untrusted input. Independently of them,
/// a declared length never exceeds the bytes that remain, an array count never exceeds the
/// remaining bytes and a map count never exceeds half of them, so a header can never make a
/// reader allocate more than a small multiple of its input.
/// </summary>
public sealed record MessagePackReaderOptions
{
    public static MessagePackReaderOptions Default { get; } = new();

    /// <summary>How deep recursive consumers (<see cref="MessagePackJson"/>, <see cref="MessagePackValue"/>) may nest arrays and maps.</summary>
    public int MaxDepth { get; init; } = 128;

    /// <summary>The longest str, in UTF-8 bytes.</summary>
    public int MaxStringLength { get; init; } = int.MaxValue;

    /// <summary>The longest bin or extension payload.</summary>
    public int MaxBinaryLength { get; init; } = int.MaxValue;

    /// <summary>The most elements in an array or key/value pairs in a map.</summary>
    public int MaxCollectionCount { get; init; } = int.MaxValue;
}
