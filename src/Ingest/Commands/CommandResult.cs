using Ingest.Encoding.MessagePack;

namespace Ingest.Commands;

/// <summary>One kernel.command-results value (see docs/commands.md, "Results").</summary>
/// <param name="Id">The command id; for an invalid command, the id it claimed if readable, else null.</param>
/// <param name="Host">This host's id (also the record key).</param>
/// <param name="Status">What happened.</param>
/// <param name="Error">Why, human-readable; null when applied.</param>
/// <param name="Before">Value before the change, where one exists.</param>
/// <param name="After">Value after the change, where one exists.</param>
/// <param name="AtMs">Unix time in ms when the host decided.</param>
/// <param name="Op">The op, when known.</param>
/// <param name="Errno">The kernel's errno when an effector failed, else null.</param>
public sealed record CommandResult(
    string? Id,
    string Host,
    CommandStatus Status,
    string? Error,
    string? Before,
    string? After,
    long AtMs,
    string? Op = null,
    int? Errno = null)
{
    public byte[] Encode()
    {
        using var writer = new MessagePackWriter(256);
        writer.WriteMapHeader(10);
        writer.WriteString("v");
        writer.Write((long)CommandCodec.Version);
        writer.WriteString("id");
        WriteNullable(writer, Id);
        writer.WriteString("host");
        writer.WriteString(Host);
        writer.WriteString("status");
        writer.WriteString(Status.ToWire());
        writer.WriteString("error");
        WriteNullable(writer, Error);
        writer.WriteString("before");
        WriteNullable(writer, Before);
        writer.WriteString("after");
        WriteNullable(writer, After);
        writer.WriteString("at");
        writer.Write(AtMs);
        writer.WriteString("op");
        WriteNullable(writer, Op);
        writer.WriteString("errno");
        if (Errno is int errno)
        {
            writer.Write((long)errno);
        }
        else
        {
            writer.WriteNil();
        }

        return writer.ToArray();
    }

    /// <summary>Parses a result value; null when it is not one.</summary>
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
                map.TryGetValue("errno", out MessagePackValue e) && CommandCodec.TryInt(e, out long errno) ? (int)errno : null);
        }
        catch (Exception e) when (e is MessagePackFormatException or FormatException or OverflowException)
        {
            return null;
        }
    }

    /// <summary>One line for people: status, id, before -> after, error.</summary>
    public override string ToString()
    {
        var line = $"{Status.ToWire()} id={Id ?? "-"} host={Host}";
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

    private static void WriteNullable(MessagePackWriter writer, string? value)
    {
        if (value is null)
        {
            writer.WriteNil();
        }
        else
        {
            writer.WriteString(value);
        }
    }

    private static string? Text(MessagePackValue map, string key) =>
        map.TryGetValue(key, out MessagePackValue value) && value.Type == MessagePackType.String ? value.AsString() : null;
}
