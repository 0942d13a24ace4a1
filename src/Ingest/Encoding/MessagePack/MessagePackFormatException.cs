namespace Ingest.Encoding.MessagePack;

/// <summary>
/// The input is not valid MessagePack, or breaks a limit of <see cref="MessagePackReaderOptions"/>.
/// <see cref="Offset"/> is the position of the value (or header) that failed.
/// </summary>
public sealed class MessagePackFormatException : FormatException
{
    public MessagePackFormatException(string message, long offset)
        : base($"{message} (at byte offset {offset})")
    {
        Offset = offset;
    }

    public MessagePackFormatException(string message, long offset, Exception innerException)
        : base($"{message} (at byte offset {offset})", innerException)
    {
        Offset = offset;
    }

    /// <summary>The byte offset in the reader's buffer where the bad value starts.</summary>
    public long Offset { get; }
}
