using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Ingest.Transports.Interop;
using Ingest.Transports.Udp;
using Tmds.Linux;

namespace Ingest.Transports.Tests.Udp;

public class SourceAddressCacheTests
{
    [Fact]
    public void Formats_like_IPEndPoint_for_random_IPv4_and_IPv6_senders()
    {
        var random = new Random(1234);
        var cache = new SourceAddressCache(capacity: 4);
        for (var i = 0; i < 2000; i++)
        {
            var bytes = new byte[i % 2 == 0 ? 4 : 16];
            random.NextBytes(bytes);
            if (bytes.Length == 16 && i % 7 == 1)
            {
                bytes.AsSpan(0, 10).Clear(); // zero runs and IPv4-mapped shapes exercise :: compression
                bytes[10] = bytes[11] = 0xff;
            }

            var endpoint = new IPEndPoint(new IPAddress(bytes), random.Next(0, 65536));

            var text = Encoding.UTF8.GetString(cache.Format(SockAddr(endpoint)));

            Assert.Equal(endpoint.ToString(), text);
        }
    }

    [Fact]
    public void Returns_the_cached_text_for_a_repeated_sender()
    {
        var cache = new SourceAddressCache(capacity: 2);
        var a = SockAddr(new IPEndPoint(IPAddress.Loopback, 1000));
        var b = SockAddr(new IPEndPoint(IPAddress.IPv6Loopback, 2000));
        var c = SockAddr(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 3000));

        Assert.Equal("127.0.0.1:1000", Encoding.UTF8.GetString(cache.Format(a)));
        Assert.Equal("[::1]:2000", Encoding.UTF8.GetString(cache.Format(b)));

        // Evicting a (the oldest) must not disturb b, and a comes back right.
        Assert.Equal("10.0.0.1:3000", Encoding.UTF8.GetString(cache.Format(c)));
        Assert.Equal("[::1]:2000", Encoding.UTF8.GetString(cache.Format(b)));
        Assert.Equal("127.0.0.1:1000", Encoding.UTF8.GetString(cache.Format(a)));
    }

    [Fact]
    public void Unknown_family_formats_as_empty()
    {
        var cache = new SourceAddressCache();
        var unix = new byte[16];
        BinaryPrimitives.WriteUInt16LittleEndian(unix, (ushort)(int)LibC.AF_UNIX);

        Assert.True(cache.Format(unix).IsEmpty);
        Assert.True(cache.Format([]).IsEmpty);
    }

    internal static unsafe byte[] SockAddr(IPEndPoint endpoint)
    {
        if (endpoint.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var sin6 = new sockaddr_in6
            {
                sin6_family = LibC.AF_INET6,
                sin6_port = BinaryPrimitives.ReverseEndianness((ushort)endpoint.Port),
                sin6_scope_id = (uint)endpoint.Address.ScopeId,
            };
            endpoint.Address.TryWriteBytes(new Span<byte>(sin6.sin6_addr.s6_addr, 16), out _);
            return new ReadOnlySpan<byte>(&sin6, sizeof(sockaddr_in6)).ToArray();
        }

        var sin = new sockaddr_in
        {
            sin_family = LibC.AF_INET,
            sin_port = BinaryPrimitives.ReverseEndianness((ushort)endpoint.Port),
        };
        endpoint.Address.TryWriteBytes(new Span<byte>(&sin.sin_addr, 4), out _);
        return new ReadOnlySpan<byte>(&sin, sizeof(sockaddr_in)).ToArray();
    }
}
