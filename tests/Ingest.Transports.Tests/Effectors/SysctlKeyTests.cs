using Ingest.Transports.Effectors;

namespace Ingest.Transports.Tests.Effectors;

public sealed class SysctlKeyTests
{
    [Theory]
    [InlineData("net.ipv4.tcp_keepalive_time", "net/ipv4/tcp_keepalive_time", "net.ipv4.tcp_keepalive_time")]
    [InlineData("net/ipv4/tcp_keepalive_time", "net/ipv4/tcp_keepalive_time", "net.ipv4.tcp_keepalive_time")]
    [InlineData("kernel.ostype", "kernel/ostype", "kernel.ostype")]
    [InlineData("vm.dirty-ratio_x", "vm/dirty-ratio_x", "vm.dirty-ratio_x")]
    public void Parses_dotted_and_slashed_names(string text, string relative, string name)
    {
        Assert.True(SysctlKey.TryParse(text, out SysctlKey? key, out string? error), error);
        Assert.Equal(relative, key!.RelativePath);
        Assert.Equal(name, key.Name);
    }

    [Fact]
    public void Slashed_names_keep_dots_inside_segments()
    {
        Assert.True(SysctlKey.TryParse("net/ipv4/conf/eth0.100/forwarding", out SysctlKey? key, out _));
        Assert.Equal(["net", "ipv4", "conf", "eth0.100", "forwarding"], key!.Segments);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("../etc/passwd", "'..'")]
    [InlineData("kernel/../..", "'..'")]
    [InlineData("net/ipv4/../../../../etc/shadow", "'..'")]
    [InlineData("net..ipv4", "'..'")]
    [InlineData("/etc/passwd", "absolute")]
    [InlineData("net//ipv4", "empty segment")]
    [InlineData("net.ipv4.", "empty segment")]
    [InlineData(".net", "empty segment")]
    [InlineData("net/./ipv4", "empty segment")]
    [InlineData("net/ipv4/", "empty segment")]
    [InlineData("net\0ipv4", "outside")]
    [InlineData("net ipv4", "outside")]
    [InlineData("net.ipv4\n", "outside")]
    [InlineData("net.ipv4.tcp_keepalive_time=1", "outside")]
    [InlineData("net/ipv4/ipé", "outside")]
    public void Refuses_names_that_could_leave_the_tree(string text, string reason)
    {
        Assert.False(SysctlKey.TryParse(text, out SysctlKey? key, out string? error));
        Assert.Null(key);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_overlong_names()
    {
        Assert.False(SysctlKey.TryParse(new string('a', SysctlKey.MaxLength + 1), out _, out string? error));
        Assert.Contains("longer", error, StringComparison.Ordinal);
    }
}
