using Ingest.Commands;
using Ingest.Configuration;
using Ingest.Tests.Support;

namespace Ingest.Tests.Commands;

/// <summary>Who a host is with commands enabled, and which Kafka settings the command clients get.</summary>
public sealed class CommandIdentityTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-identity-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Commands_enabled_without_a_HostId_is_a_configuration_error()
    {
        var options = Enabled(hostId: null);

        var e = Assert.Throws<ConfigurationException>(options.Validate);
        Assert.Contains("HostId must be set when Commands:Enabled", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HostId_machine_id_reads_etc_machine_id()
    {
        string file = Path.Combine(_dir, "machine-id");
        File.WriteAllText(file, "0123456789abcdef0123456789abcdef\n");
        var options = Enabled(hostId: "machine-id");
        options.MachineIdPath = file;

        options.Validate();

        Assert.Equal("0123456789abcdef0123456789abcdef", options.ResolvedHostId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("uninitialized\n")]
    [InlineData("00000000000000000000000000000000\n")]
    [InlineData("0123456789ABCDEF0123456789ABCDEF\n")]
    public void A_machine_id_file_without_a_machine_id_is_a_configuration_error(string content)
    {
        string file = Path.Combine(_dir, "machine-id");
        File.WriteAllText(file, content);
        var options = Enabled(hostId: "machine-id");
        options.MachineIdPath = file;

        var e = Assert.Throws<ConfigurationException>(options.Validate);
        Assert.Contains("HostId=machine-id", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_commands_HostId_still_defaults_to_the_host_name()
    {
        var options = new IngestOptions();
        options.Validate();
        Assert.Equal(Environment.MachineName, options.ResolvedHostId);
    }

    [Fact]
    public void Commands_enabled_without_a_HostKey_is_a_configuration_error()
    {
        var options = Enabled(hostId: "sensor-1");
        options.Commands.HostKey = null;

        var e = Assert.Throws<ConfigurationException>(options.Validate);
        Assert.Contains("Commands:HostKey", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Kafka_properties_reach_the_command_clients_under_the_command_overrides()
    {
        var merged = CommandKafkaProperties.Merge(
            new Dictionary<string, string> { ["security.protocol"] = "ssl", ["ssl.ca.location"] = "/etc/ca.pem", ["client.id"] = "events" },
            new Dictionary<string, string> { ["client.id"] = "commands" });

        Assert.Equal("ssl", merged["security.protocol"]);
        Assert.Equal("/etc/ca.pem", merged["ssl.ca.location"]);
        Assert.Equal("commands", merged["client.id"]);
    }

    [Fact]
    public async Task A_rule_covering_an_exec_sink_stops_ingest_run_with_exit_2_naming_the_rule()
    {
        var result = await ProcessRunner.RunAsync(CliProcess.ExecutablePath,
        [
            "run", "--host-id", "sensor-1",
            "--set", "Commands:Enabled=true", "--set", "Commands:TrustedKeys:0=/nonexistent.pub", "--set", "Commands:HostKey=/nonexistent.key",
            "--set", "Commands:Sysctl:0:Prefix=kernel", "--set", "Commands:Sysctl:0:Pattern=.*",
        ], timeout: TimeSpan.FromSeconds(60));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Commands:Sysctl:0: Prefix 'kernel' would cover kernel.core_pattern", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keygen_for_a_host_writes_HOST_key_and_HOST_pub()
    {
        var result = await ProcessRunner.RunAsync(CliProcess.ExecutablePath, ["keygen", "-o", _dir, "--host", "sensor-9"], timeout: TimeSpan.FromSeconds(60));

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, "sensor-9.key")));
        using var keys = HostKeys.Open(_dir);
        Assert.Contains(result.StdoutText.Split('\n')[0]["kid=".Length..], keys.For("sensor-9").KeyIds);
    }

    private static IngestOptions Enabled(string? hostId) => new()
    {
        HostId = hostId,
        Commands = new CommandOptions { Enabled = true, TrustedKeys = ["/x.pub"], HostKey = "/x.key" },
    };
}
