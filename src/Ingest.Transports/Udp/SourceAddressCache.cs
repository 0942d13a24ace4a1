using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;
using Ingest.Transports.Interop;
using Tmds.Linux;

namespace Ingest.Transports.Udp;

/// <summary>
/// Turns a sender's raw sockaddr into its UTF-8 "ip:port" ("[ip]:port" for IPv6), remembering
/// the last few senders so that steady traffic formats nothing. Kernel senders are few; a miss
/// formats IPv4 in place and IPv6 through <see cref="IPAddress"/> (one short-lived object).
/// </summary>
internal sealed class SourceAddressCache
{
    // sizeof(sockaddr_in6): the largest key.
    private const int KeySize = 28;

    // "[" + 45 chars of IPv6 text + "%" + 10-digit scope + "]:" + 5-digit port, rounded up.
    private const int TextSize = 72;

    private readonly Entry[] _entries;
    private int _next;

    public SourceAddressCache(int capacity = 8)
    {
        _entries = new Entry[capacity];
        for (var i = 0; i < capacity; i++)
        {
            _entries[i] = new Entry();
        }
    }

    /// <summary>The UTF-8 text of <paramref name="sockaddr"/>; empty when the family is neither IPv4 nor IPv6.</summary>
    public ReadOnlySpan<byte> Format(ReadOnlySpan<byte> sockaddr)
    {
        if (sockaddr.Length is 0 or > KeySize)
        {
            return [];
        }

        foreach (var entry in _entries)
        {
            if (entry.KeyLength == sockaddr.Length && sockaddr.SequenceEqual(entry.Key.AsSpan(0, entry.KeyLength)))
            {
                return entry.Text.AsSpan(0, entry.TextLength);
            }
        }

        var slot = _entries[_next];
        var length = Write(sockaddr, slot.Text);
        if (length == 0)
        {
            return [];
        }

        _next = (_next + 1) % _entries.Length;
        sockaddr.CopyTo(slot.Key);
        slot.KeyLength = sockaddr.Length;
        slot.TextLength = length;
        return slot.Text.AsSpan(0, length);
    }

    /// <summary>Formats without the cache; returns the bytes written, 0 for an unknown family.</summary>
    internal static unsafe int Write(ReadOnlySpan<byte> sockaddr, Span<byte> text)
    {
        var family = MemoryMarshal.Read<ushort>(sockaddr);
        int written;
        if (family == LibC.AF_INET && sockaddr.Length >= sizeof(sockaddr_in))
        {
            var sin = MemoryMarshal.Read<sockaddr_in>(sockaddr);
            written = 0;
            var address = BinaryPrimitives.ReverseEndianness(*(uint*)sin.sin_addr.s_addr);
            for (var shift = 24; shift >= 0; shift -= 8)
            {
                ((byte)(address >> shift)).TryFormat(text[written..], out var n);
                written += n;
                text[written++] = (byte)(shift == 0 ? ':' : '.');
            }

            BinaryPrimitives.ReverseEndianness(sin.sin_port).TryFormat(text[written..], out var portLength);
            return written + portLength;
        }

        if (family == LibC.AF_INET6 && sockaddr.Length >= sizeof(sockaddr_in6))
        {
            var sin6 = MemoryMarshal.Read<sockaddr_in6>(sockaddr);
            var address = new IPAddress(new ReadOnlySpan<byte>(sin6.sin6_addr.s6_addr, 16), sin6.sin6_scope_id);
            text[0] = (byte)'[';
            address.TryFormat(text[1..], out written);
            written++;
            text[written++] = (byte)']';
            text[written++] = (byte)':';
            BinaryPrimitives.ReverseEndianness(sin6.sin6_port).TryFormat(text[written..], out var portLength);
            return written + portLength;
        }

        return 0;
    }

    private sealed class Entry
    {
        public readonly byte[] Key = new byte[KeySize];
        public readonly byte[] Text = new byte[TextSize];
        public int KeyLength;
        public int TextLength;
    }
}
