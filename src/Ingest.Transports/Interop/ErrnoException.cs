using System.Runtime.InteropServices;

namespace Ingest.Transports.Interop;

/// <summary>A failed system call: which call, and the errno it left.</summary>
public sealed class ErrnoException(string call, int errno)
    : IOException($"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno)
{
    public string Call { get; } = call;

    public int Errno { get; } = errno;
}
