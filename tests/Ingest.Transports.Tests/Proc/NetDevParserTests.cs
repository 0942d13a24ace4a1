using Ingest.Transports.Proc;

namespace Ingest.Transports.Tests.Proc;

public class NetDevParserTests
{
    private const string Sample =
        "Inter-|   Receive                                                |  Transmit\n" +
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n" +
        "    lo:  123456     789    0    0    0     0          0         0   123456     789    0    0    0     0       0          0\n" +
        "veth-long-name0:18446744073709551615 12345678 1 2 3 4 5 6 1234567 7654 7 8 9 10 11 12\n";

    [Fact]
    public void Parses_every_counter_of_every_interface()
    {
        var e = ParserHarness.Parse(new NetDevParser(), Sample);

        var interfaces = e.Data.Map("interfaces");
        Assert.Equal(["lo", "veth-long-name0"], interfaces.Keys);
        var lo = interfaces.Map("lo");
        Assert.Equal(16, lo.Count);
        Assert.Equal(123456UL, lo["rx_bytes"]);
        Assert.Equal(789UL, lo["tx_packets"]);
        var veth = interfaces.Map("veth-long-name0");
        Assert.Equal(ulong.MaxValue, veth["rx_bytes"]);
        Assert.Equal(12345678UL, veth["rx_packets"]);
        Assert.Equal(1UL, veth["rx_errs"]);
        Assert.Equal(2UL, veth["rx_drop"]);
        Assert.Equal(3UL, veth["rx_fifo"]);
        Assert.Equal(4UL, veth["rx_frame"]);
        Assert.Equal(5UL, veth["rx_compressed"]);
        Assert.Equal(6UL, veth["rx_multicast"]);
        Assert.Equal(1234567UL, veth["tx_bytes"]);
        Assert.Equal(7654UL, veth["tx_packets"]);
        Assert.Equal(7UL, veth["tx_errs"]);
        Assert.Equal(8UL, veth["tx_drop"]);
        Assert.Equal(9UL, veth["tx_fifo"]);
        Assert.Equal(10UL, veth["tx_colls"]);
        Assert.Equal(11UL, veth["tx_carrier"]);
        Assert.Equal(12UL, veth["tx_compressed"]);
    }

    [Fact]
    public void Parses_the_live_file_and_finds_loopback()
    {
        var e = ParserHarness.ParseLive(new NetDevParser(), "/proc/net/dev");

        var lo = e.Data.Map("interfaces").Map("lo");
        Assert.Equal(16, lo.Count);
        Assert.True((ulong)lo["rx_packets"]! <= (ulong)lo["rx_bytes"]!);
    }

    [Fact]
    public void Parses_a_file_with_no_interfaces_as_an_empty_map()
    {
        var e = ParserHarness.Parse(new NetDevParser(), string.Join('\n', Sample.Split('\n')[..2]) + "\n");

        Assert.Empty(e.Data.Map("interfaces"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Inter-|   Receive\n")]
    [InlineData("no header\nat all\n    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n")]
    [InlineData("|\n|\n    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n")]
    [InlineData("|\n|\n    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n")]
    [InlineData("|\n|\n    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x\n")]
    [InlineData("|\n|\n    lo  1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n")]
    [InlineData("|\n|\n    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n  eth0: 1 2 3")]
    [InlineData("|\n|\n    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 18446744073709551616\n")]
    public void Rejects_malformed_and_truncated_text_without_writing(string text)
    {
        ParserHarness.Rejects(new NetDevParser(), text);
    }
}
