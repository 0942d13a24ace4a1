using Ingest.Commands;

namespace Ingest.Tests.Commands;

/// <summary>
/// Issue 10's value, key and replay attacks against a real processor, real keys, a real replay
/// store and a sysctl tree of regular files. Each asserts the exact status and that nothing
/// changed. (The same attacks against the kernel itself: CommandNetnsAttackTests.)
/// </summary>
public sealed class CommandHardeningTests : IDisposable
{
    private readonly CommandWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Theory]
    [InlineData("1 2")]
    [InlineData("1\n2")]
    [InlineData("600\n")]
    [InlineData("600\t")]
    [InlineData("600\0")]
    [InlineData(" 600")]
    [InlineData("600\u00a0")]
    [InlineData("600\r")]
    public void Value_with_whitespace_newline_or_NUL_is_invalid_before_the_id_is_recorded(string value)
    {
        CommandRequest request = _world.Keepalive(value, id: "ws-1");

        CommandResult result = _world.Process(_world.Operator.Sign(request))!;

        Assert.Equal(CommandStatus.Invalid, result.Status);
        Assert.Contains("whitespace", result.Error, StringComparison.Ordinal);
        Assert.Null(result.Id);
        Assert.Equal("ws-1", result.ClaimedId);
        Assert.False(_world.Replay.Contains("ws-1", _world.Time.Now.ToUnixTimeMilliseconds()));
        _world.AssertNothingWritten();

        // The id was not consumed: the corrected command goes through under it.
        Assert.Equal(CommandStatus.Applied, _world.Process(_world.Operator.Sign(_world.Keepalive("600", id: "ws-1")))!.Status);
    }

    [Fact]
    public void A_dotted_interface_name_never_matches_a_rule_for_another_interface()
    {
        string conf = Path.Combine(_world.SysctlRoot, "net", "ipv4", "conf");
        Directory.CreateDirectory(Path.Combine(conf, "v0"));
        Directory.CreateDirectory(Path.Combine(conf, "v0.1"));
        File.WriteAllText(Path.Combine(conf, "v0", "forwarding"), "0\n");
        File.WriteAllText(Path.Combine(conf, "v0.1", "forwarding"), "0\n");
        _world.Options.Sysctl.Add(new SysctlRuleOptions { Prefix = "net.ipv4.conf.v0", Values = ["0", "1"] });
        _world.Reopen();

        // Slashed: the path opened is v0.1's, which the rule for v0 does not cover.
        CommandResult slashed = _world.Process(_world.Operator.Sign(_world.SysctlRequest("net/ipv4/conf/v0.1/forwarding", "1")))!;
        Assert.Equal(CommandStatus.Denied, slashed.Status);
        Assert.Contains("net/ipv4/conf/v0.1/forwarding is not allowlisted", slashed.Error, StringComparison.Ordinal);

        // Dotted: the segments are v0/1/forwarding, which is the path opened (and does not exist).
        CommandResult dotted = _world.Process(_world.Operator.Sign(_world.SysctlRequest("net.ipv4.conf.v0.1.forwarding", "1")))!;
        Assert.Equal(CommandStatus.Failed, dotted.Status);
        Assert.Equal(2, dotted.Errno);

        Assert.Equal("0\n", File.ReadAllText(Path.Combine(conf, "v0.1", "forwarding")));
        Assert.Equal("0\n", File.ReadAllText(Path.Combine(conf, "v0", "forwarding")));

        // The rule's own interface, either spelling.
        Assert.Equal(CommandStatus.Applied, _world.Process(_world.Operator.Sign(_world.SysctlRequest("net/ipv4/conf/v0/forwarding", "1")))!.Status);
        Assert.Equal("1", File.ReadAllText(Path.Combine(conf, "v0", "forwarding")));
        Assert.Equal("0\n", File.ReadAllText(Path.Combine(conf, "v0.1", "forwarding")));
    }

    [Fact]
    public void A_slashed_rule_names_a_dotted_interface_exactly()
    {
        string conf = Path.Combine(_world.SysctlRoot, "net", "ipv4", "conf");
        Directory.CreateDirectory(Path.Combine(conf, "v0.1"));
        File.WriteAllText(Path.Combine(conf, "v0.1", "forwarding"), "0\n");
        _world.Options.Sysctl.Add(new SysctlRuleOptions { Key = "net/ipv4/conf/v0.1/forwarding", Values = ["0", "1"] });
        _world.Reopen();

        Assert.Equal(CommandStatus.Applied, _world.Process(_world.Operator.Sign(_world.SysctlRequest("net/ipv4/conf/v0.1/forwarding", "1")))!.Status);
        // Dotted, the same name is v0/1/forwarding: another path, not covered.
        Assert.Equal(CommandStatus.Denied, _world.Process(_world.Operator.Sign(_world.SysctlRequest("net.ipv4.conf.v0.1.forwarding", "0")))!.Status);
        Assert.Equal("1", File.ReadAllText(Path.Combine(conf, "v0.1", "forwarding")));
    }

    public static TheoryData<string> ExecSinks =>
    [
        "kernel.core_pattern",
        "kernel.modprobe",
        "kernel.hotplug",
        "kernel.poweroff_cmd",
        "kernel.usermodehelper.bset",
        "kernel.usermodehelper.inheritable",
        "fs.binfmt_misc.register",
        "fs.binfmt_misc.status",
        "kingest.upcall_helper",
        "kernel/core_pattern",
    ];

    [Theory]
    [MemberData(nameof(ExecSinks))]
    public void Exec_sink_sysctls_are_denied_even_behind_a_permissive_rule(string key)
    {
        string[] segments = key.Split(key.Contains('/', StringComparison.Ordinal) ? '/' : '.');
        string file = Path.Combine([_world.SysctlRoot, .. segments]);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, "original\n");
        _world.Options.Sysctl.Add(new SysctlRuleOptions { Prefix = segments[0], Pattern = ".*" });
        _world.Reopen(refuseExecSinkRules: false);

        CommandResult result = _world.Process(_world.Operator.Sign(_world.SysctlRequest(key, "|/tmp/owned")))!;

        Assert.Equal(CommandStatus.Denied, result.Status);
        Assert.Contains("always refused", result.Error, StringComparison.Ordinal);
        Assert.Equal("original\n", File.ReadAllText(file));
    }

    [Theory]
    [MemberData(nameof(ExecSinks))]
    public void Exec_sink_sysctls_are_denied_against_the_real_proc_sys(string key)
    {
        if (Environment.UserName != "root")
        {
            Assert.Skip("needs root to open /proc/sys for writing");
        }

        // The value sent is the current one: even a broken check could not change the machine.
        string[] segments = key.Split(key.Contains('/', StringComparison.Ordinal) ? '/' : '.');
        string path = Path.Combine(["/proc/sys", .. segments]);
        string current = "x"; // absent: a write could only fail with ENOENT
        string? original = null;
        if (File.Exists(path))
        {
            try
            {
                original = File.ReadAllText(path);
                current = original.TrimEnd('\n');
            }
            catch (IOException e)
            {
                Assert.Skip($"{path} is not readable ({e.Message}): no value to send that could not change it");
            }

            if (current.Length == 0 || current.Any(char.IsWhiteSpace))
            {
                // No single token equals it; the kernel refuses "x" for these (capability masks).
                current = "x";
            }
        }

        _world.Options.Sysctl.Clear();
        _world.Options.Sysctl.Add(new SysctlRuleOptions { Prefix = segments[0], Pattern = ".*" });
        _world.Reopen(refuseExecSinkRules: false, sysctlRoot: "/proc/sys");

        CommandResult result = _world.Process(_world.Operator.Sign(_world.SysctlRequest(key, current)))!;

        Assert.Equal(CommandStatus.Denied, result.Status);
        Assert.Contains("always refused", result.Error, StringComparison.Ordinal);
        if (original is not null)
        {
            Assert.Equal(original, File.ReadAllText(path));
        }
    }

    [Theory]
    [InlineData("kernel", true, "kernel.core_pattern")]
    [InlineData("kernel.core_pattern", false, "kernel.core_pattern")]
    [InlineData("kernel/modprobe", false, "kernel.modprobe")]
    [InlineData("kernel.usermodehelper", true, "kernel.usermodehelper.*")]
    [InlineData("kernel.usermodehelper.bset", false, "kernel.usermodehelper.*")]
    [InlineData("fs", true, "fs.binfmt_misc.*")]
    [InlineData("fs.binfmt_misc", true, "fs.binfmt_misc.*")]
    [InlineData("kingest", true, "kingest.upcall_helper")]
    [InlineData("kingest.upcall_helper", false, "kingest.upcall_helper")]
    public void A_rule_covering_an_exec_sink_is_a_configuration_error_naming_the_rule(string name, bool prefix, string sink)
    {
        var options = new CommandOptions
        {
            Sysctl =
            [
                new SysctlRuleOptions { Key = CommandWorld.KeepaliveKey, Min = 30, Max = 7200 },
                prefix ? new SysctlRuleOptions { Prefix = name, Pattern = ".*" } : new SysctlRuleOptions { Key = name, Pattern = ".*" },
            ],
        };

        var e = Assert.Throws<ConfigurationException>(options.Validate);

        Assert.Contains("Commands:Sysctl:1", e.Message, StringComparison.Ordinal);
        Assert.Contains(sink, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("kernel.hostname", false)]
    [InlineData("kingest.rate_hz", false)]
    [InlineData("kernel.core_uses_pid", false)]
    [InlineData("fs.file-max", false)]
    [InlineData("net", true)]
    public void Rules_beside_the_exec_sinks_are_accepted(string name, bool prefix)
    {
        var options = new CommandOptions
        {
            Sysctl = [prefix ? new SysctlRuleOptions { Prefix = name, Pattern = ".*" } : new SysctlRuleOptions { Key = name, Pattern = ".*" }],
        };

        options.Validate();
    }

    [Fact]
    public void A_command_recorded_but_never_noted_done_is_answered_unknown_outcome_after_a_restart()
    {
        // A crash between recording and applying: the id line is there, its "a" line is not.
        CommandRequest request = _world.Keepalive("600", id: "crashed-1");
        _world.Replay.TryAdd(request.Id, request.ExpiresAtMs + 30_000, _world.Time.Now.ToUnixTimeMilliseconds());
        _world.Restart();

        CommandResult result = _world.Process(_world.Operator.Sign(request))!;

        Assert.Equal(CommandStatus.UnknownOutcome, result.Status);
        Assert.Equal("crashed-1", result.Id);
        Assert.Contains("may or may not have been applied", result.Error, StringComparison.Ordinal);
        _world.AssertNothingWritten();
    }

    [Fact]
    public void A_clock_stepped_back_cannot_revive_an_id_pruned_as_expired()
    {
        // Signed now, valid for a minute; applied.
        CommandRequest request = _world.Keepalive("600", id: "hwm-1");
        byte[] signed = _world.Operator.Sign(request);
        Assert.Equal(CommandStatus.Applied, _world.Process(signed)!.Status);
        File.WriteAllText(_world.KeepalivePath, "7200\n");

        // The host restarts with a clock an hour fast: the id is pruned as expired.
        _world.Time.Advance(TimeSpan.FromHours(1));
        _world.Restart();
        Assert.Equal(0, _world.Replay.Count);

        // The clock is stepped back to the real time, inside the command's lifetime.
        _world.Time.Now = CommandWorld.Start + TimeSpan.FromSeconds(10);
        _world.Restart();

        CommandResult result = _world.Process(signed)!;
        Assert.Equal(CommandStatus.Expired, result.Status);
        _world.AssertNothingWritten();
    }
}
