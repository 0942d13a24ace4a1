using Ingest.Encoding.MessagePack;

namespace Ingest.Commands;

/// <summary>The signed body of a command (see docs/commands.md, "Body").</summary>
/// <param name="Id">Unique id: 1..128 characters of [A-Za-z0-9._:-].</param>
/// <param name="Host">Target host id (also the record key).</param>
/// <param name="IssuedAtMs">Unix time in milliseconds when the operator signed it.</param>
/// <param name="ExpiresAtMs">Unix time in milliseconds after which hosts refuse it.</param>
/// <param name="Op"><see cref="CommandOps.SysctlWrite"/> or <see cref="CommandOps.Ioctl"/> (others are invalid).</param>
/// <param name="Args">The op's arguments: a map with str keys.</param>
public sealed record CommandRequest(string Id, string Host, long IssuedAtMs, long ExpiresAtMs, string Op, MessagePackValue Args)
{
    public const int MaxIdLength = 128;

    /// <summary>Ids go into the replay store one per line: a closed alphabet keeps it unambiguous.</summary>
    public static bool IsValidId(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxIdLength)
        {
            return false;
        }

        foreach (char c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A sysctl.write request.</summary>
    public static CommandRequest Sysctl(string id, string host, DateTimeOffset issuedAt, TimeSpan lifetime, string key, string value) =>
        new(id, host, issuedAt.ToUnixTimeMilliseconds(), (issuedAt + lifetime).ToUnixTimeMilliseconds(), CommandOps.SysctlWrite, MessagePackValue.FromMap(
            new(MessagePackValue.FromString("key"), MessagePackValue.FromString(key)),
            new(MessagePackValue.FromString("value"), MessagePackValue.FromString(value))));

    /// <summary>An ioctl request: <paramref name="name"/> plus integer arguments.</summary>
    public static CommandRequest Ioctl(string id, string host, DateTimeOffset issuedAt, TimeSpan lifetime, string name, IReadOnlyList<KeyValuePair<string, long>> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var entries = new KeyValuePair<MessagePackValue, MessagePackValue>[arguments.Count + 1];
        entries[0] = new(MessagePackValue.FromString("name"), MessagePackValue.FromString(name));
        for (int i = 0; i < arguments.Count; i++)
        {
            entries[i + 1] = new(MessagePackValue.FromString(arguments[i].Key), MessagePackValue.FromInt64(arguments[i].Value));
        }

        return new(id, host, issuedAt.ToUnixTimeMilliseconds(), (issuedAt + lifetime).ToUnixTimeMilliseconds(), CommandOps.Ioctl, MessagePackValue.FromMap(entries));
    }

    /// <summary>A fresh random id: 128 bits, hex.</summary>
    public static string NewId() => Guid.NewGuid().ToString("N");
}
