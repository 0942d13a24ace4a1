namespace Ingest.Commands;

/// <summary>The operations a command can carry (the <c>op</c> field).</summary>
public static class CommandOps
{
    /// <summary>args: {"key": str, "value": str}.</summary>
    public const string SysctlWrite = "sysctl.write";

    /// <summary>args: {"name": str, &lt;argument&gt;: int, ...}.</summary>
    public const string Ioctl = "ioctl";
}
