namespace Ingest.Transports.Effectors;

/// <summary>The kernel's answer to one ioctl: its return value, and errno when it failed.</summary>
/// <param name="Return">ioctl(2)'s return value (-1 on failure).</param>
/// <param name="Errno">errno when <paramref name="Return"/> is negative, else 0.</param>
/// <param name="Error">What failed, human-readable (open or ioctl), or null on success.</param>
public readonly record struct IoctlOutcome(int Return, int Errno, string? Error)
{
    public bool Succeeded => Return >= 0;
}
