using System.Net;
using Ingest.Transports.Udp;

namespace Ingest.Transports.Tests.Udp;

public class UdpEndpointTests
{
    [Theory]
    [InlineData("127.0.0.1:5555", "127.0.0.1", 5555)]
    [InlineData("0.0.0.0:0", "0.0.0.0", 0)]
    [InlineData(" 10.1.2.3:65535 ", "10.1.2.3", 65535)]
    [InlineData("[::1]:5555", "::1", 5555)]
    [InlineData("[::]:9", "::", 9)]
    [InlineData("[fe80::1%1]:7", "fe80::1%1", 7)]
    public void Parses_ip_and_port(string text, string address, int port)
    {
        var endpoint = UdpEndpoint.Parse(text);

        Assert.Equal(IPAddress.Parse(address), endpoint.Address);
        Assert.Equal(port, endpoint.Port);
    }

    [Theory]
    [InlineData("")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:")]
    [InlineData("127.0.0.1:65536")]
    [InlineData("127.0.0.1:-1")]
    [InlineData("127.0.0.1:55x")]
    [InlineData("localhost:5555")]
    [InlineData("::1:5555")]
    [InlineData("[::1]")]
    [InlineData("[127.0.0.1]:5555")]
    [InlineData("[::1]:")]
    [InlineData("300.1.1.1:5")]
    public void Rejects_malformed_endpoints_with_a_message_naming_them(string text)
    {
        Assert.False(UdpEndpoint.TryParse(text, out _));
        var error = Assert.Throws<FormatException>(() => UdpEndpoint.Parse(text));
        Assert.Equal($"bad UDP endpoint '{text}': expected ip:port (IPv6 as [addr]:port)", error.Message);
    }

    [Fact]
    public void Rejects_null()
    {
        Assert.False(UdpEndpoint.TryParse(null, out _));
        Assert.Throws<FormatException>(() => UdpEndpoint.Parse(null));
    }
}
