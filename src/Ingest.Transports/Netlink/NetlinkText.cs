using System.Net;

namespace Ingest.Transports.Netlink;

/// <summary>Formats link-layer and IP addresses from attribute bytes into caller buffers.</summary>
internal static class NetlinkText
{
    /// <summary>Longest text any address here formats to (an IPv6 address with a zone is 46+).</summary>
    public const int MaxAddressChars = 64;

    /// <summary>"aa:bb:cc:dd:ee:ff" for any length (InfiniBand addresses are 20 bytes).</summary>
    public static int FormatHardwareAddress(ReadOnlySpan<byte> address, Span<char> destination)
    {
        var length = Math.Min(address.Length, (destination.Length + 1) / 3);
        var written = 0;
        for (var i = 0; i < length; i++)
        {
            if (i > 0)
            {
                destination[written++] = ':';
            }

            destination[written++] = HexLower(address[i] >> 4);
            destination[written++] = HexLower(address[i] & 0xf);
        }

        return written;
    }

    /// <summary>Dotted quad or RFC 5952 text; -1 when the length fits neither family.</summary>
    public static int FormatIpAddress(ReadOnlySpan<byte> address, Span<char> destination)
    {
        if (address.Length == 4)
        {
            var written = 0;
            for (var i = 0; i < 4; i++)
            {
                if (i > 0)
                {
                    destination[written++] = '.';
                }

                address[i].TryFormat(destination[written..], out var digits, provider: System.Globalization.CultureInfo.InvariantCulture);
                written += digits;
            }

            return written;
        }

        if (address.Length == 16)
        {
            // IPv6 addresses are rare next to IPv4 ones here; IPAddress gets the RFC 5952 details right.
            return new IPAddress(address).TryFormat(destination, out var written) ? written : -1;
        }

        return -1;
    }

    private static char HexLower(int nibble) => (char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
}
