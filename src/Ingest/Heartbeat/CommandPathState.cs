namespace Ingest.Heartbeat;

/// <summary>Where the command path stands, as a heartbeat reports it.</summary>
public enum CommandPathState
{
    /// <summary>Commands:Enabled is false.</summary>
    Off,

    /// <summary>Consuming kernel.commands.</summary>
    Running,

    /// <summary>The command loop ended with an error; the daemon stops.</summary>
    Failed,
}

public static class CommandPathStateNames
{
    public static string ToWire(this CommandPathState state) => state switch
    {
        CommandPathState.Off => "off",
        CommandPathState.Running => "running",
        CommandPathState.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };
}
