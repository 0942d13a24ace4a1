using Ingest.Transports.Effectors;
using Ingest.Transports.Interop;
using Tmds.Linux;

namespace Ingest.Transports.Tests.Effectors;

public sealed class SysctlWriterTests : IDisposable
{
    private readonly FakeSysctlTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void Writes_and_reports_before_and_after()
    {
        string path = _tree.Add("net/ipv4/tcp_keepalive_time", "7200");
        var writer = new SysctlWriter(_tree.Root);

        SysctlWriteResult result = writer.Write(Key("net.ipv4.tcp_keepalive_time"), "600");

        Assert.Equal("7200", result.Before);
        Assert.Equal("600", result.After);
        Assert.Equal("600", File.ReadAllText(path));
    }

    [Fact]
    public void Directory_symlink_inside_the_tree_is_not_followed()
    {
        string target = _tree.AddOutside("secret", "untouched");
        Directory.CreateDirectory(Path.Combine(_tree.Root, "kernel"));
        // kernel/escape -> ../../outside: a symlink planted in the tree.
        File.CreateSymbolicLink(Path.Combine(_tree.Root, "kernel", "escape"), _tree.Outside);
        var writer = new SysctlWriter(_tree.Root);

        var e = Assert.Throws<ErrnoException>(() => writer.Write(Key("kernel/escape/secret"), "owned"));

        Assert.Contains(e.Errno, new[] { LibC.ELOOP, LibC.ENOTDIR });
        Assert.Equal("untouched\n", File.ReadAllText(target));
    }

    [Fact]
    public void Leaf_symlink_is_not_followed()
    {
        string target = _tree.AddOutside("secret", "untouched");
        Directory.CreateDirectory(Path.Combine(_tree.Root, "kernel"));
        File.CreateSymbolicLink(Path.Combine(_tree.Root, "kernel", "hostname"), target);
        var writer = new SysctlWriter(_tree.Root);

        var e = Assert.Throws<ErrnoException>(() => writer.Write(Key("kernel.hostname"), "owned"));

        Assert.Equal(LibC.ELOOP, e.Errno);
        Assert.Equal("untouched\n", File.ReadAllText(target));
    }

    [Fact]
    public void Missing_key_fails_with_ENOENT_and_creates_nothing()
    {
        _tree.Add("net/ipv4/tcp_keepalive_time", "7200");
        var writer = new SysctlWriter(_tree.Root);

        var e = Assert.Throws<ErrnoException>(() => writer.Write(Key("net.ipv4.no_such_key"), "1"));

        Assert.Equal(LibC.ENOENT, e.Errno);
        Assert.False(File.Exists(Path.Combine(_tree.Root, "net", "ipv4", "no_such_key")));
    }

    [Theory]
    [InlineData("1\n2")]
    [InlineData("1\0")]
    public void Refuses_values_with_newline_or_nul_before_writing(string value)
    {
        string path = _tree.Add("vm/swappiness", "60");
        var writer = new SysctlWriter(_tree.Root);

        Assert.Throws<ArgumentException>(() => writer.Write(Key("vm.swappiness"), value));
        Assert.Equal("60\n", File.ReadAllText(path));
    }

    [Fact]
    public void Reads_the_real_proc_sys()
    {
        var writer = new SysctlWriter();

        Assert.Equal("Linux", writer.Read(Key("kernel.ostype")));
    }

    [Fact]
    public void Real_proc_sys_write_errors_keep_the_kernel_errno()
    {
        // A read-only sysctl: the kernel refuses the open for writing, nothing changes.
        var writer = new SysctlWriter();

        var e = Assert.Throws<ErrnoException>(() => writer.Write(Key("kernel.ostype"), "Plan9"));

        Assert.Contains(e.Errno, new[] { LibC.EACCES, LibC.EPERM });
        Assert.Equal("Linux", writer.Read(Key("kernel.ostype")));
    }

    private static SysctlKey Key(string text)
    {
        Assert.True(SysctlKey.TryParse(text, out SysctlKey? key, out string? error), error);
        return key!;
    }
}
