namespace Ingest.Commands;

/// <summary>The outcome of one command, as published in kernel.command-results.</summary>
public enum CommandStatus
{
    /// <summary>Authentic, fresh, allowed, and the effector succeeded.</summary>
    Applied,

    /// <summary>Authentic and fresh, but the allowlist refuses the key, ioctl or value.</summary>
    Denied,

    /// <summary>Oversized, malformed, unknown op or key id, or a bad signature.</summary>
    Invalid,

    /// <summary>Past expires_at (plus the allowed clock skew).</summary>
    Expired,

    /// <summary>An id this host has already seen within its expiry window.</summary>
    Replayed,

    /// <summary>Allowed, but the effector reported an error (errno kept in the result), or the read-back disagreed.</summary>
    Failed,

    /// <summary>
    /// The id was recorded but the host stopped before noting the effector's return (a crash
    /// between the two): the command may or may not have been applied. Never applied again.
    /// </summary>
    UnknownOutcome,
}

/// <summary>Wire names of <see cref="CommandStatus"/>.</summary>
public static class CommandStatusNames
{
    public static string ToWire(this CommandStatus status) => status switch
    {
        CommandStatus.Applied => "applied",
        CommandStatus.Denied => "denied",
        CommandStatus.Invalid => "invalid",
        CommandStatus.Expired => "expired",
        CommandStatus.Replayed => "replayed",
        CommandStatus.Failed => "failed",
        CommandStatus.UnknownOutcome => "unknown_outcome",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static bool TryParse(string? wire, out CommandStatus status)
    {
        foreach (CommandStatus candidate in Enum.GetValues<CommandStatus>())
        {
            if (candidate.ToWire() == wire)
            {
                status = candidate;
                return true;
            }
        }

        status = default;
        return false;
    }
}
