using System.Text;
using Ingest.Transports.Interop;
using Tmds.Linux;

namespace Ingest.Transports.Upcall;

/// <summary>Builds a filesystem sockaddr_un.</summary>
internal static class UnixSocketAddress
{
    public static unsafe sockaddr_un Create(string path)
    {
        var address = new sockaddr_un { sun_family = LibC.AF_UNIX };
        var destination = new Span<byte>(address.sun_path, 107); // keeps the final NUL
        if (!Encoding.UTF8.TryGetBytes(path, destination, out _))
        {
            throw new ArgumentException($"socket path '{path}' is longer than a Unix socket address allows (107 bytes)", nameof(path));
        }

        return address;
    }
}
