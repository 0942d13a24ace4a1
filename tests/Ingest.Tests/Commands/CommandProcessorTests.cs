using Ingest.Commands;
using Ingest.Encoding.MessagePack;
using Ingest.Tests.Encoding;
using Lib = global::MessagePack;

namespace Ingest.Tests.Commands;

/// <summary>
/// Every decision of the command path against real keys, a real replay store and a real file
/// tree: each hostile case asserts its exact status and that nothing was written.
/// </summary>
public sealed class CommandProcessorTests : IDisposable
{
    private readonly CommandWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public void Applies_an_authentic_allowed_command_and_reports_before_and_after()
    {
        CommandRequest request = _world.Keepalive("600");

        CommandResult result = _world.Process(_world.Operator.Sign(request))!;

        Assert.Equal(CommandStatus.Applied, result.Status);
        Assert.Equal(request.Id, result.Id);
        Assert.Equal(CommandWorld.Host, result.Host);
        Assert.Equal("7200", result.Before);
        Assert.Equal("600", result.After);
        Assert.Null(result.Error);
        Assert.Equal("600", _world.Keepalive());
        Assert.Equal(1, _world.Processor.Stats[CommandStatus.Applied]);
    }

    [Fact]
    public void Forged_signature_is_refused_unverified()
    {
        CommandRequest request = _world.Keepalive("600");
        byte[] signed = _world.Operator.Sign(request);
        Assert.True(CommandCodec.TryDecodeEnvelope(signed, out CommandEnvelope envelope, out _));
        // Same signature, body re-signed for another value by nobody: swap the body of another command.
        byte[] otherBody = CommandCodec.EncodeBody(request with { Args = _world.Keepalive("30").Args });
        byte[] forged = CommandCodec.EncodeEnvelope(envelope.KeyId, otherBody, envelope.Signature);

        AssertUnverified(forged, RejectReason.BadSignature, "bad signature");
    }

    [Fact]
    public void Flipped_signature_bit_is_refused_unverified()
    {
        byte[] signed = _world.Operator.Sign(_world.Keepalive("600"));
        Assert.True(CommandCodec.TryDecodeEnvelope(signed, out CommandEnvelope envelope, out _));
        envelope.Signature[10] ^= 0x01;

        AssertUnverified(CommandCodec.EncodeEnvelope(envelope.KeyId, envelope.Body, envelope.Signature), RejectReason.BadSignature, "bad signature");
    }

    [Fact]
    public void Signature_by_an_unknown_key_is_refused_unverified()
    {
        AssertUnverified(_world.Rogue.Sign(_world.Keepalive("600")), RejectReason.UnknownKeyId, "unknown key id");
    }

    [Fact]
    public void Rogue_signature_under_the_trusted_key_id_is_refused_unverified()
    {
        byte[] rogue = _world.Rogue.Sign(_world.Keepalive("600"));
        Assert.True(CommandCodec.TryDecodeEnvelope(rogue, out CommandEnvelope envelope, out _));

        AssertUnverified(CommandCodec.EncodeEnvelope(_world.OperatorKeyId, envelope.Body, envelope.Signature), RejectReason.BadSignature, "bad signature");
    }

    [Fact]
    public void Expired_command_is_expired()
    {
        byte[] signed = _world.Operator.Sign(_world.Keepalive("600", lifetime: TimeSpan.FromMinutes(1)));
        _world.Time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(_world.Options.ClockSkewSeconds) + TimeSpan.FromMilliseconds(1));

        AssertRefused(signed, CommandStatus.Expired, "expired");
    }

    [Fact]
    public void Expiry_tolerates_the_configured_clock_skew()
    {
        byte[] signed = _world.Operator.Sign(_world.Keepalive("600", lifetime: TimeSpan.FromMinutes(1)));
        _world.Time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(_world.Options.ClockSkewSeconds));

        Assert.Equal(CommandStatus.Applied, _world.Process(signed)!.Status);
    }

    [Fact]
    public void Command_issued_in_the_future_is_invalid()
    {
        CommandRequest request = _world.Keepalive("600");
        request = request with { IssuedAtMs = request.IssuedAtMs + 3_600_000, ExpiresAtMs = request.ExpiresAtMs + 3_600_000 };

        AssertRefused(_world.Operator.Sign(request), CommandStatus.Invalid, "in the future");
    }

    [Fact]
    public void Lifetime_longer_than_the_cap_is_invalid()
    {
        AssertRefused(_world.Operator.Sign(_world.Keepalive("600", lifetime: TimeSpan.FromHours(2))), CommandStatus.Invalid, "expires_at - issued_at");
    }

    [Fact]
    public void Replayed_id_is_replayed_and_not_applied_again()
    {
        byte[] signed = _world.Operator.Sign(_world.Keepalive("600", id: "cmd-1"));
        Assert.Equal(CommandStatus.Applied, _world.Process(signed)!.Status);
        File.WriteAllText(_world.KeepalivePath, "7200\n");

        AssertRefused(signed, CommandStatus.Replayed, "already received");
    }

    [Fact]
    public void Same_id_with_a_different_body_is_replayed()
    {
        Assert.Equal(CommandStatus.Applied, _world.Process(_world.Operator.Sign(_world.Keepalive("600", id: "cmd-2")))!.Status);
        File.WriteAllText(_world.KeepalivePath, "7200\n");

        AssertRefused(_world.Operator.Sign(_world.Keepalive("300", id: "cmd-2")), CommandStatus.Replayed, "already received");
    }

    [Fact]
    public void Replay_is_recognised_across_a_restart()
    {
        byte[] signed = _world.Operator.Sign(_world.Keepalive("600", id: "cmd-restart"));
        Assert.Equal(CommandStatus.Applied, _world.Process(signed)!.Status);
        File.WriteAllText(_world.KeepalivePath, "7200\n");

        _world.Restart();
        _world.Time.Advance(TimeSpan.FromSeconds(30));

        AssertRefused(signed, CommandStatus.Replayed, "already received");
    }

    [Fact]
    public void Denied_and_failed_ids_are_remembered_too()
    {
        byte[] denied = _world.Operator.Sign(_world.Keepalive("1", id: "cmd-denied"));
        Assert.Equal(CommandStatus.Denied, _world.Process(denied)!.Status);

        AssertRefused(denied, CommandStatus.Replayed, "already received");
    }

    [Fact]
    public void Wrong_record_key_is_ignored_and_counted()
    {
        byte[] signed = _world.Operator.Sign(_world.Keepalive("600"));

        Assert.Null(_world.Processor.Process("sensor-18"u8, signed));

        Assert.Equal(1, _world.Processor.Stats.WrongHost);
        Assert.Contains("record key", _world.Processor.LastIgnoredReason, StringComparison.Ordinal);
        _world.AssertNothingWritten();
    }

    [Fact]
    public void Command_signed_for_another_host_is_ignored_even_under_this_hosts_key()
    {
        byte[] signed = _world.Operator.Sign(_world.Keepalive("600", host: "sensor-18"));

        Assert.Null(_world.Process(signed));

        Assert.Equal(1, _world.Processor.Stats.WrongHost);
        Assert.Contains("signed for host 'sensor-18'", _world.Processor.LastIgnoredReason, StringComparison.Ordinal);
        _world.AssertNothingWritten();
    }

    [Theory]
    [InlineData("kernel.ostype", "Plan9", "not allowlisted")]
    [InlineData("net.ipv4.tcp_keepalive_intvl", "10", "not allowlisted")]
    [InlineData("net.ipv4.tcp_keepalive_time.extra", "10", "not allowlisted")]
    public void Key_not_allowlisted_is_denied(string key, string value, string reason)
    {
        AssertRefused(_world.Operator.Sign(_world.SysctlRequest(key, value)), CommandStatus.Denied, reason);
    }

    [Theory]
    [InlineData("29", "outside 30..7200")]
    [InlineData("7201", "outside 30..7200")]
    [InlineData("-1", "outside 30..7200")]
    [InlineData("035", "not a plain decimal")]
    [InlineData("0600", "not a plain decimal")]
    [InlineData("00", "not a plain decimal")]
    [InlineData("+600", "not a plain decimal")]
    [InlineData("0x258", "not a plain decimal")]
    [InlineData("", "not a plain decimal")]
    [InlineData("-0600", "not a plain decimal")]
    [InlineData("６００", "not a plain decimal")]
    [InlineData("99999999999999999999", "not a plain decimal")]
    public void Value_out_of_range_is_denied(string value, string reason)
    {
        AssertRefused(_world.Operator.Sign(_world.Keepalive(value)), CommandStatus.Denied, reason);
    }

    [Theory]
    [InlineData("Sensor")]
    [InlineData("a;rm")]
    public void Value_not_matching_the_pattern_is_denied(string value)
    {
        AssertRefused(_world.Operator.Sign(_world.SysctlRequest("kernel.hostname", value)), CommandStatus.Denied, "pattern");
    }

    [Theory]
    [InlineData("../secret")]
    [InlineData("kernel/../..")]
    [InlineData("kernel/../../secret")]
    [InlineData("net/ipv4/../../../secret")]
    [InlineData("/proc/sys/net/ipv4/tcp_keepalive_time")]
    [InlineData("net.ipv4..tcp_keepalive_time")]
    [InlineData("net//ipv4/tcp_keepalive_time")]
    [InlineData("net/ipv4/tcp_keepalive_time\0")]
    public void Path_traversal_is_denied(string key)
    {
        AssertRefused(_world.Operator.Sign(_world.SysctlRequest(key, "600")), CommandStatus.Denied, "sysctl key");
    }

    [Fact]
    public void Symlink_planted_under_an_allowlisted_prefix_fails_without_writing()
    {
        _world.Options.Sysctl.Add(new SysctlRuleOptions { Prefix = "kernel.escape", Values = ["owned"] });
        _world.Restart();
        File.CreateSymbolicLink(Path.Combine(_world.SysctlRoot, "kernel", "escape"), _world.Base);

        CommandResult result = _world.Process(_world.Operator.Sign(_world.SysctlRequest("kernel.escape.secret", "owned")))!;

        Assert.Equal(CommandStatus.Failed, result.Status);
        Assert.NotNull(result.Errno);
        _world.AssertNothingWritten();
    }

    [Theory]
    [InlineData(new byte[] { 0xc1 })]
    [InlineData(new byte[] { 0x93, 0x01, 0x02, 0x03 })]
    [InlineData(new byte[] { 0xa3, 0x61, 0x62, 0x63 })]
    [InlineData(new byte[] { 0x84, 0xa1, 0x76, 0x01 })]
    [InlineData(new byte[0])]
    public void Malformed_MessagePack_is_refused_unverified(byte[] value)
    {
        AssertUnverified(value, RejectReason.Malformed, "");
    }

    [Fact]
    public void Truncated_record_is_refused_unverified()
    {
        byte[] signed = _world.Operator.Sign(_world.Keepalive("600"));

        int count = 0;
        for (int length = 0; length < signed.Length; length += 7, count++)
        {
            Assert.Null(_world.Process(signed.AsSpan(0, length).ToArray()));
            Assert.Equal(CommandDecision.Unverified, _world.Processor.LastDecision);
        }

        Assert.Equal(count, _world.Processor.Stats.RejectedUnverified);
        Assert.Equal(0, _world.Processor.Stats[CommandStatus.Invalid]);
        _world.AssertNothingWritten();
    }

    [Fact]
    public void Ten_megabyte_record_is_refused_before_parsing()
    {
        byte[] huge = new byte[10 * 1024 * 1024];
        huge.AsSpan().Fill(0xc1);

        AssertUnverified(huge, RejectReason.Oversized, "exceeds the 65536-byte limit");
    }

    [Fact]
    public void Unknown_op_is_invalid()
    {
        CommandRequest request = _world.Keepalive("600") with { Op = "shell.exec" };

        AssertRefused(_world.Operator.Sign(request), CommandStatus.Invalid, "unknown op 'shell.exec'");
    }

    [Fact]
    public void Envelope_with_extra_or_repeated_fields_is_refused_unverified()
    {
        byte[] signed = _world.Operator.Sign(_world.Keepalive("600"));
        byte[] envelope = Msgpack.Build((ref Lib.MessagePackWriter writer) =>
        {
            writer.WriteMapHeader(5);
            writer.WriteRaw(signed.AsSpan(1));
            writer.Write("extra");
            writer.WriteNil();
        });

        AssertUnverified(envelope, RejectReason.Malformed, "envelope");
    }

    [Fact]
    public void Wrong_sysctl_argument_shape_is_invalid()
    {
        CommandRequest request = _world.Keepalive("600") with
        {
            Args = MessagePackValue.FromMap(new(MessagePackValue.FromString("key"), MessagePackValue.FromString(CommandWorld.KeepaliveKey)), new(MessagePackValue.FromString("value"), MessagePackValue.FromInt64(600))),
        };

        AssertRefused(_world.Operator.Sign(request), CommandStatus.Invalid, "sysctl.write args");
    }

    [Fact]
    public void Ioctl_not_allowlisted_is_denied()
    {
        var request = CommandRequest.Ioctl(CommandRequest.NewId(), CommandWorld.Host, _world.Time.Now, TimeSpan.FromMinutes(1), "reset_stats", []);

        AssertRefused(_world.Operator.Sign(request), CommandStatus.Denied, "ioctl reset_stats is not allowlisted");
    }

    [Fact]
    public void Unknown_ioctl_is_denied()
    {
        var request = CommandRequest.Ioctl(CommandRequest.NewId(), CommandWorld.Host, _world.Time.Now, TimeSpan.FromMinutes(1), "inject", [new("len", 1)]);

        AssertRefused(_world.Operator.Sign(request), CommandStatus.Denied, "ioctl inject is not allowlisted");
    }

    [Theory]
    [InlineData(1001, "outside the allowed 1..1000")]
    [InlineData(0, "outside 1..10000")]
    [InlineData(20000, "outside 1..10000")]
    public void Ioctl_argument_out_of_range_is_denied(long hz, string reason)
    {
        var request = CommandRequest.Ioctl(CommandRequest.NewId(), CommandWorld.Host, _world.Time.Now, TimeSpan.FromMinutes(1), "set_rate", [new("hz", hz)]);

        AssertRefused(_world.Operator.Sign(request), CommandStatus.Denied, reason);
    }

    [Fact]
    public void Repeated_ioctl_argument_is_invalid()
    {
        var request = CommandRequest.Ioctl(CommandRequest.NewId(), CommandWorld.Host, _world.Time.Now, TimeSpan.FromMinutes(1), "set_rate", [new("hz", 10), new("hz", 5000)]);

        AssertRefused(_world.Operator.Sign(request), CommandStatus.Invalid, "'hz' is repeated");
    }

    [Fact]
    public void Allowed_ioctl_without_the_device_fails_with_ENOENT()
    {
        var request = CommandRequest.Ioctl(CommandRequest.NewId(), CommandWorld.Host, _world.Time.Now, TimeSpan.FromMinutes(1), "set_rate", [new("hz", 100)]);

        CommandResult result = _world.Process(_world.Operator.Sign(request))!;

        Assert.Equal(CommandStatus.Failed, result.Status);
        Assert.Equal(2, result.Errno);
        Assert.Contains("KINGEST_IOC_SET_RATE", result.Error, StringComparison.Ordinal);
    }

    private void AssertRefused(byte[] value, CommandStatus status, string reason)
    {
        CommandResult? result = _world.Process(value);

        Assert.NotNull(result);
        Assert.Equal(status, result.Status);
        Assert.Contains(reason, result.Error, StringComparison.Ordinal);
        Assert.Null(result.After);
        Assert.Equal(1, _world.Processor.Stats[status]);
        if (status == CommandStatus.Invalid)
        {
            // An invalid result never carries the id a sender would match on.
            Assert.Null(result.Id);
        }

        _world.AssertNothingWritten();
    }

    private void AssertUnverified(byte[] value, RejectReason reason, string detail)
    {
        Assert.Null(_world.Process(value));

        Assert.Equal(CommandDecision.Unverified, _world.Processor.LastDecision);
        Assert.Equal(reason, _world.Processor.LastRejection);
        Assert.Contains(detail, _world.Processor.LastIgnoredReason, StringComparison.Ordinal);
        Assert.Equal(1, _world.Processor.Stats[reason]);
        Assert.Equal(0, _world.Processor.Stats[CommandStatus.Invalid]);
        Assert.Equal(0, _world.Replay.Count);
        _world.AssertNothingWritten();
    }
}
