using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Ingest.Transports.Udp;

/// <summary>
/// Parses the "ip:port" endpoint strings of the configuration: <c>127.0.0.1:5555</c>,
/// <c>[::1]:5555</c>, <c>0.0.0.0:5555</c>, <c>[::]:5555</c>. IP literals only (a daemon listening
/// for kernel datagrams should not depend on name resolution); the port is required.
/// </summary>
public static class UdpEndpoint
{
    /// <summary>Parses <paramref name="value"/> or throws a <see cref="FormatException"/> that names it.</summary>
    public static IPEndPoint Parse(string? value) =>
        TryParse(value, out var endpoint)
            ? endpoint
            : throw new FormatException($"bad UDP endpoint '{value}': expected ip:port (IPv6 as [addr]:port)");

    public static bool TryParse([NotNullWhen(true)] string? value, [NotNullWhen(true)] out IPEndPoint? endpoint)
    {
        endpoint = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        var text = value.AsSpan().Trim();
        ReadOnlySpan<char> host;
        ReadOnlySpan<char> port;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
            {
                return false;
            }

            host = text[1..close];
            port = text[(close + 2)..];
        }
        else
        {
            // Without brackets only IPv4 is unambiguous: "::1:5555" could be an address or a port.
            var colon = text.IndexOf(':');
            if (colon < 0 || text.LastIndexOf(':') != colon)
            {
                return false;
            }

            host = text[..colon];
            port = text[(colon + 1)..];
        }

        if (!IPAddress.TryParse(host, out var address)
            || !ushort.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var portNumber))
        {
            return false;
        }

        if (text.StartsWith('[') != (address.AddressFamily == AddressFamily.InterNetworkV6))
        {
            return false;
        }

        endpoint = new IPEndPoint(address, portNumber);
        return true;
    }
}
