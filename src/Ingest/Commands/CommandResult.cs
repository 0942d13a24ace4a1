using Ingest.Encoding.MessagePack;
using MessagePackWriter = global::MessagePack.MessagePackWriter;

namespace Ingest.Commands;

/// <summary>
/// One result (see docs/commands.md, "Results"): the body a host signs into the result envelope
/// <c>{"v":1,"kid","body","sig"}</c> published to kernel.command-results.
/// </summary>
/// <param name="Id">The command id; always null for <c>invalid</c> (see <paramref name="ClaimedId"/>).</param>
/// <param name="Host">This host's id (also the record key).</param>
/// <param name="Status">What happened.</param>
/// <param name="Error">Why, human-readable; null when applied.</param>
/// <param name="Before">Value before the change, where one exists.</param>
/// <param name="After">Value after the change, where one exists.</param>
/// <param name="AtMs">Unix time in ms when the host decided.</param>
/// <param name="Op">The op, when known.</param>
/// <param name="Errno">The kernel's errno when an effector failed, else null.</param>
/// <param name="ClaimedId">For <c>invalid</c>: the id the command claimed, if readable. Senders never match on it.</param>
public sealed record CommandResult(
    string? Id,
    string Host,
    CommandStatus Status,
    string? Error,
    string? Before,
    string? After,
    long AtMs,
    string? Op = null,
    int? Errno = null,
    string? ClaimedId = null)
{
    /// <summary>The result body (the bytes the host signs).</summary>
    public byte[] Encode()
    {
        using var buffer = new PooledBufferWriter(256);
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(11);
        writer.Write("v");
        writer.Write((long)CommandCodec.Version);
        writer.Write("id");
        writer.Write(Id);
        writer.Write("host");
        writer.Write(Host);
        writer.Write("status");
        writer.Write(Status.ToWire());
        writer.Write("error");
        writer.Write(Error);
        writer.Write("before");
        writer.Write(Before);
        writer.Write("after");
        writer.Write(After);
        writer.Write("at");
        writer.Write(AtMs);
        writer.Write("op");
        writer.Write(Op);
        writer.Write("errno");
        if (Errno is int errno)
        {
            writer.Write((long)errno);
        }
        else
        {
            writer.WriteNil();
        }

        writer.Write("claimed_id");
        writer.Write(ClaimedId);
        writer.Flush();
        return buffer.ToArray();
    }

    /// <summary>Parses a result body; null when it is not one. Only trust a body whose signature checked out.</summary>
    public static CommandResult? TryDecode(ReadOnlySpan<byte> value)
    {
        try
        {
            MessagePackValue map = MessagePackValue.Parse(value, CommandCodec.ReaderOptions);
            if (map.Type != MessagePackType.Map
                || !map.TryGetValue("status", out MessagePackValue status)
                || !CommandStatusNames.TryParse(status.Type == MessagePackType.String ? status.AsString() : null, out CommandStatus parsed))
            {
                return null;
            }

            return new CommandResult(
                Text(map, "id"),
                Text(map, "host") ?? "",
                parsed,
                Text(map, "error"),
                Text(map, "before"),
                Text(map, "after"),
                map.TryGetValue("at", out MessagePackValue at) && CommandCodec.TryInt(at, out long ms) ? ms : 0,
                Text(map, "op"),
                map.TryGetValue("errno", out MessagePackValue e) && CommandCodec.TryInt(e, out long errno) ? (int)errno : null,
                Text(map, "claimed_id"));
        }
        catch (Exception e) when (e is MessagePackFormatException or FormatException or OverflowException)
        {
            return null;
        }
    }

    /// <summary>One line for people: status, id, before -> after, error.</summary>
    public override string ToString()
    {
        var line = ClaimedId is null ? $"{Status.ToWire()} id={Id ?? "-"} host={Host}" : $"{Status.ToWire()} id={Id ?? "-"} claimed_id={ClaimedId} host={Host}";
        if (Op is not null)
        {
            line += $" op={Op}";
        }

        if (Before is not null || After is not null)
        {
            line += $" before={Before ?? "-"} after={After ?? "-"}";
        }

        if (Errno is int errno)
        {
            line += $" errno={errno}";
        }

        return Error is null ? line : $"{line} error=\"{Error}\"";
    }

    private static string? Text(MessagePackValue map, string key) =>
        map.TryGetValue(key, out MessagePackValue value) && value.Type == MessagePackType.String ? value.AsString() : null;
}
