namespace Ingest.Transports.Interop;

internal static partial class Libc
{
    // memfd_create(2) flags
    public const uint MFD_CLOEXEC = 0x0001;
}
