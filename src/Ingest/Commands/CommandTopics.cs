namespace Ingest.Commands;

/// <summary>Default topic names of the command path.</summary>
public static class CommandTopics
{
    public const string Commands = "kernel.commands";

    public const string Results = "kernel.command-results";
}
