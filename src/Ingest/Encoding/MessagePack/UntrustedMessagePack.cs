using Lib = global::MessagePack;

namespace Ingest.Encoding.MessagePack;

/// <summary>
/// Reading untrusted MessagePack with MessagePack-CSharp's low-level <see cref="Lib.MessagePackReader"/>
/// (NativeAOT-safe: no resolver, no reflection) under the project's explicit limits.
/// The library already refuses a declared array/map count larger than the bytes that remain;
/// <see cref="MessagePackReaderOptions"/> adds depth, str, bin and collection caps, and depth is
/// counted by <see cref="Lib.MessagePackSecurity.UntrustedData"/>'s <c>DepthStep</c>.
/// Every failure surfaces as <see cref="MessagePackFormatException"/> with the byte offset.
/// </summary>
public static class UntrustedMessagePack
{
    /// <summary>The library's untrusted-data profile with the project's depth limit.</summary>
    public static Lib.MessagePackSecurity Security(MessagePackReaderOptions options) =>
        options.MaxDepth == s_default.MaximumObjectGraphDepth ? s_default : Lib.MessagePackSecurity.UntrustedData.WithMaximumObjectGraphDepth(options.MaxDepth);

    private static readonly Lib.MessagePackSecurity s_default =
        Lib.MessagePackSecurity.UntrustedData.WithMaximumObjectGraphDepth(MessagePackReaderOptions.Default.MaxDepth);

    /// <summary>Enters an array or map: counts depth (throws past the limit) and checks the count.</summary>
    public static void EnterCollection(ref Lib.MessagePackReader reader, MessagePackReaderOptions options, int count)
    {
        Security(options).DepthStep(ref reader);
        if (count > options.MaxCollectionCount)
        {
            throw new MessagePackFormatException($"collection of {count} elements exceeds the limit of {options.MaxCollectionCount}", reader.Consumed);
        }
    }

    public static void ExitCollection(ref Lib.MessagePackReader reader) => reader.Depth--;

    /// <summary>A str's UTF-8 bytes (the reader is over one contiguous buffer), within the str limit.</summary>
    public static ReadOnlySpan<byte> ReadStringSpan(ref Lib.MessagePackReader reader, MessagePackReaderOptions options)
    {
        var start = reader.Consumed;
        var sequence = reader.ReadStringSequence() ?? throw new MessagePackFormatException("expected str, found nil", start);
        if (sequence.Length > options.MaxStringLength)
        {
            throw new MessagePackFormatException($"str of {sequence.Length} bytes exceeds the limit of {options.MaxStringLength}", start);
        }

        return sequence.FirstSpan;
    }

    /// <summary>A bin's bytes, within the bin limit.</summary>
    public static ReadOnlySpan<byte> ReadBinarySpan(ref Lib.MessagePackReader reader, MessagePackReaderOptions options)
    {
        var start = reader.Consumed;
        var sequence = reader.ReadBytes() ?? throw new MessagePackFormatException("expected bin, found nil", start);
        if (sequence.Length > options.MaxBinaryLength)
        {
            throw new MessagePackFormatException($"bin of {sequence.Length} bytes exceeds the limit of {options.MaxBinaryLength}", start);
        }

        return sequence.FirstSpan;
    }

    /// <summary>
    /// The library's errors on malformed input, turned into <see cref="MessagePackFormatException"/>.
    /// 2.5.307 throws ArgumentOutOfRangeException for a str32/bin32 length of 2 GiB or more.
    /// </summary>
    public static bool IsMalformed(Exception e) =>
        e is Lib.MessagePackSerializationException or EndOfStreamException or InsufficientExecutionStackException
            or OverflowException or ArgumentOutOfRangeException or MessagePackFormatException;

    public static MessagePackFormatException Malformed(Exception e, long offset) =>
        e as MessagePackFormatException ?? new MessagePackFormatException(e.Message, offset, e);
}
