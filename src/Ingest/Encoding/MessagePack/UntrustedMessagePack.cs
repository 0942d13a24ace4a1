using System.Collections.Concurrent;
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
    /// <summary>The library's untrusted-data profile with the project's depth limit (one per limit, cached: a read allocates nothing).</summary>
    public static Lib.MessagePackSecurity Security(MessagePackReaderOptions options) =>
        options.MaxDepth == s_default.MaximumObjectGraphDepth ? s_default
            : s_byDepth.TryGetValue(options.MaxDepth, out var security) ? security : AddSecurity(options.MaxDepth);

    private static readonly Lib.MessagePackSecurity s_default =
        Lib.MessagePackSecurity.UntrustedData.WithMaximumObjectGraphDepth(MessagePackReaderOptions.Default.MaxDepth);

    private static readonly ConcurrentDictionary<int, Lib.MessagePackSecurity> s_byDepth = new();

    private static Lib.MessagePackSecurity AddSecurity(int depth) =>
        s_byDepth.GetOrAdd(depth, Lib.MessagePackSecurity.UntrustedData.WithMaximumObjectGraphDepth(depth));

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

    /// <summary>
    /// Skips the next value, counting nested arrays and maps against the depth limit: a deeply
    /// nested hostile value throws at the limit (the library's own <c>Skip</c> has none).
    /// </summary>
    public static void Skip(ref Lib.MessagePackReader reader, MessagePackReaderOptions options)
    {
        switch (reader.NextMessagePackType)
        {
            case Lib.MessagePackType.Array:
                int count = reader.ReadArrayHeader();
                EnterCollection(ref reader, options, count);
                for (int i = 0; i < count; i++)
                {
                    Skip(ref reader, options);
                }

                ExitCollection(ref reader);
                break;
            case Lib.MessagePackType.Map:
                int pairs = reader.ReadMapHeader();
                EnterCollection(ref reader, options, pairs);
                for (int i = 0; i < pairs * 2; i++)
                {
                    Skip(ref reader, options);
                }

                ExitCollection(ref reader);
                break;
            default:
                // Scalars, str, bin and extensions: no nesting.
                reader.Skip();
                break;
        }
    }

    /// <summary>The next value's bytes, skipped within the depth limit (see <see cref="Skip"/>).</summary>
    public static ReadOnlyMemory<byte> ReadRaw(ref Lib.MessagePackReader reader, MessagePackReaderOptions options)
    {
        var start = reader.Position;
        Skip(ref reader, options);
        return reader.Sequence.Slice(start, reader.Position).First;
    }

    /// <summary>A str's UTF-8 bytes (the reader is over one contiguous buffer), within the str limit.</summary>
    public static ReadOnlySpan<byte> ReadStringSpan(scoped ref Lib.MessagePackReader reader, MessagePackReaderOptions options)
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
    public static ReadOnlySpan<byte> ReadBinarySpan(scoped ref Lib.MessagePackReader reader, MessagePackReaderOptions options)
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
