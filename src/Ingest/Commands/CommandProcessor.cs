using System.Text;
using Ingest.Encoding.MessagePack;
using Ingest.Transports.Effectors;
using Ingest.Transports.Interop;

namespace Ingest.Commands;

/// <summary>
/// Decides and applies one command record, in this order, stopping at the first refusal:
/// addressed to this host (else ignored), size, envelope, key id, signature (a refusal up to
/// here is <see cref="CommandDecision.Unverified"/>: counted, never answered one by one), body,
/// host, lifetime and freshness, op and argument shape (values must be single tokens), replay
/// (the id is stored durably before anything is applied), allowlist, effector, read-back; the
/// outcome is then noted in the replay store. Nothing is written unless every check passed.
/// Not thread-safe: the dispatcher applies commands one at a time, in partition order.
/// </summary>
public sealed class CommandProcessor
{
    private readonly string _hostId;
    private readonly byte[] _hostKey;
    private readonly CommandOptions _options;
    private readonly TrustedKeys _keys;
    private readonly ReplayStore _replay;
    private readonly CommandPolicy _policy;
    private readonly SysctlWriter _sysctl;
    private readonly IIoctlExecutor? _ioctl;
    private readonly TimeProvider _time;

    public CommandProcessor(
        string hostId,
        CommandOptions options,
        TrustedKeys keys,
        ReplayStore replay,
        CommandPolicy policy,
        SysctlWriter sysctl,
        IIoctlExecutor? ioctl,
        TimeProvider? time = null,
        CommandStats? stats = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostId);
        _hostId = hostId;
        _hostKey = System.Text.Encoding.UTF8.GetBytes(hostId);
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _keys = keys ?? throw new ArgumentNullException(nameof(keys));
        _replay = replay ?? throw new ArgumentNullException(nameof(replay));
        _policy = policy ?? throw new ArgumentNullException(nameof(policy));
        _sysctl = sysctl ?? throw new ArgumentNullException(nameof(sysctl));
        _ioctl = ioctl;
        _time = time ?? TimeProvider.System;
        Stats = stats ?? new CommandStats();
    }

    public CommandStats Stats { get; }

    /// <summary>What the last <see cref="Process"/> call decided.</summary>
    public CommandDecision LastDecision { get; private set; }

    /// <summary>Why the last record was refused unverified (valid when <see cref="LastDecision"/> is Unverified).</summary>
    public RejectReason LastRejection { get; private set; }

    /// <summary>Why the last null return ignored or refused a record (for the log).</summary>
    public string? LastIgnoredReason { get; private set; }

    /// <summary>
    /// Processes one record; null when it is not addressed to this host, or refused before its
    /// signature verified (see <see cref="LastDecision"/>).
    /// </summary>
    /// <exception cref="IOException">The replay store could not be written: nothing was applied.</exception>
    public CommandResult? Process(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        if (!key.SequenceEqual(_hostKey))
        {
            return Ignore($"record key is not this host ({_hostId})");
        }

        if (value.Length > _options.MaxRecordBytes)
        {
            return Reject(RejectReason.Oversized, $"record of {value.Length} bytes exceeds the {_options.MaxRecordBytes}-byte limit");
        }

        // An envelope is a 4-entry map: a cheap first-byte test keeps most junk off the parser.
        if (value.Length == 0 || value[0] is not (0x84 or 0xde or 0xdf))
        {
            return Reject(RejectReason.Malformed, "not a command envelope");
        }

        if (!CommandCodec.TryDecodeEnvelope(value, out CommandEnvelope envelope, out string? error))
        {
            return Reject(RejectReason.Malformed, error);
        }

        if (!_keys.Contains(envelope.KeyId))
        {
            return Reject(RejectReason.UnknownKeyId, $"unknown key id '{Printable(envelope.KeyId)}'");
        }

        if (!_keys.Verify(envelope.KeyId, envelope.Body, envelope.Signature))
        {
            return Reject(RejectReason.BadSignature, "bad signature");
        }

        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        LastDecision = CommandDecision.Result;
        if (!CommandCodec.TryDecodeBody(envelope.Body, out CommandRequest? request, out error))
        {
            return Invalid(ClaimedId(envelope.Body), null, error, now);
        }

        if (request!.Host != _hostId)
        {
            return Ignore($"command {request.Id} is signed for host '{request.Host}', not this host ({_hostId})");
        }

        long skew = _options.ClockSkewSeconds * 1000L;
        long lifetime = request.ExpiresAtMs - request.IssuedAtMs;
        if (lifetime <= 0 || lifetime > _options.MaxLifetimeSeconds * 1000L)
        {
            return Invalid(request.Id, request.Op, $"expires_at - issued_at must be between 1 ms and {_options.MaxLifetimeSeconds} s", now);
        }

        if (request.IssuedAtMs > now + skew)
        {
            return Invalid(request.Id, request.Op, $"issued_at is {request.IssuedAtMs - now} ms in the future (more than the {_options.ClockSkewSeconds} s skew allowed)", now);
        }

        // Judged against the store's high-water mark too: a clock stepped back cannot revive an
        // id that was pruned as expired.
        long effectiveNow = _replay.EffectiveNow(now);
        if (effectiveNow > request.ExpiresAtMs + skew)
        {
            return Finish(request, CommandStatus.Expired, $"expired {effectiveNow - request.ExpiresAtMs} ms ago", now);
        }

        // Shape errors are refused before the id is consumed, so a corrected command may reuse it.
        if (!TryShape(request, out error))
        {
            return Invalid(request.Id, request.Op, error, now);
        }

        switch (_replay.Lookup(request.Id, now))
        {
            case ReplayState.Done:
                return Finish(request, CommandStatus.Replayed, $"command id {request.Id} was already received", now);
            case ReplayState.Pending:
                return Finish(request, CommandStatus.UnknownOutcome, $"command id {request.Id} was received before, but the host stopped before its outcome was noted: it may or may not have been applied", now);
        }

        if (!_replay.TryAdd(request.Id, request.ExpiresAtMs + skew, now))
        {
            return Finish(request, CommandStatus.Replayed, $"command id {request.Id} was already received", now);
        }

        CommandResult result = request.Op == CommandOps.SysctlWrite ? ApplySysctl(request, now) : ApplyIoctl(request, now);
        _replay.MarkDone(request.Id, now);
        return result;
    }

    /// <summary>The op is known and its arguments have the documented shape; a sysctl value is one token.</summary>
    private static bool TryShape(CommandRequest request, out string? error)
    {
        MessagePackValue args = request.Args;
        switch (request.Op)
        {
            case CommandOps.SysctlWrite:
                if (args.Entries.Count != 2
                    || !args.TryGetValue("key", out MessagePackValue keyValue) || !CommandCodec.TryString(keyValue, out _)
                    || !args.TryGetValue("value", out MessagePackValue valueValue) || !CommandCodec.TryString(valueValue, out string? value))
                {
                    error = "sysctl.write args must be exactly {key: str, value: str}";
                    return false;
                }

                return CommandPolicy.IsPlainValue(value, out error);
            case CommandOps.Ioctl:
                if (!args.TryGetValue("name", out MessagePackValue nameValue) || !CommandCodec.TryString(nameValue, out _))
                {
                    error = "ioctl args need name: str";
                    return false;
                }

                error = null;
                return true;
            default:
                error = $"unknown op '{Printable(request.Op)}' (expected {CommandOps.SysctlWrite} or {CommandOps.Ioctl})";
                return false;
        }
    }

    private CommandResult ApplySysctl(CommandRequest request, long now)
    {
        MessagePackValue args = request.Args;
        string keyText = args["key"].AsString();
        string value = args["value"].AsString();

        if (!SysctlKey.TryParse(keyText, out SysctlKey? key, out string? error))
        {
            return Finish(request, CommandStatus.Denied, error, now);
        }

        if (!_policy.AllowsSysctl(key!, value, out error))
        {
            return Finish(request, CommandStatus.Denied, error, now);
        }

        try
        {
            SysctlWriteResult written = _sysctl.Write(key!, value);
            // The kernel may have parsed the value differently from the allowlist (base, partial
            // parse, clamping): what counts is what it holds now. If that is not what was asked
            // for, put the old value back and say so.
            string? readBack = written.After != value
                ? $"read back '{Printable(written.After)}' after writing '{value}'"
                : !_policy.AllowsSysctl(key!, written.After, out error) ? $"read back a value the allowlist refuses: {error}" : null;
            if (readBack is not null)
            {
                return Finish(request, CommandStatus.Failed, $"{key!.DisplayName}: {readBack}; {Restore(key!, written.Before)}", now, written.Before, written.After);
            }

            return Finish(request, CommandStatus.Applied, null, now, written.Before, written.After);
        }
        catch (ErrnoException e)
        {
            return Finish(request, CommandStatus.Failed, $"{key!.DisplayName}: {e.Message}", now, errno: e.Errno);
        }
        catch (Exception e) when (e is IOException or ArgumentException)
        {
            return Finish(request, CommandStatus.Failed, $"{key!.DisplayName}: {e.Message}", now);
        }
    }

    private string Restore(SysctlKey key, string before)
    {
        try
        {
            SysctlWriteResult restored = _sysctl.Write(key, before);
            return restored.After == before ? $"restored '{Printable(before)}'" : $"restoring '{Printable(before)}' read back '{Printable(restored.After)}'";
        }
        catch (Exception e) when (e is IOException or ArgumentException)
        {
            return $"restoring '{Printable(before)}' failed: {e.Message}";
        }
    }

    private CommandResult ApplyIoctl(CommandRequest request, long now)
    {
        MessagePackValue args = request.Args;
        string name = args["name"].AsString();
        if (args.Entries.Count(static e => e.Key.AsString() == "name") != 1)
        {
            return Invalid(request.Id, request.Op, "ioctl args need exactly one name", now);
        }

        var named = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (argKey, argValue) in args.Entries)
        {
            string argName = argKey.AsString();
            if (argName == "name")
            {
                continue;
            }

            if (!CommandCodec.TryInt(argValue, out long number))
            {
                return Invalid(request.Id, request.Op, $"ioctl argument '{Printable(argName)}' must be an integer", now);
            }

            // A repeated argument is ambiguous: refuse rather than pick one.
            if (!named.TryAdd(argName, number))
            {
                return Invalid(request.Id, request.Op, $"ioctl argument '{Printable(argName)}' is repeated", now);
            }
        }

        IoctlDefinition? definition = null;
        if (_ioctl is not null)
        {
            foreach (IoctlDefinition candidate in _ioctl.Definitions)
            {
                if (candidate.Name == name)
                {
                    definition = candidate;
                }
            }
        }

        if (definition is null)
        {
            return Finish(request, CommandStatus.Denied, $"ioctl {Printable(name)} is not allowlisted", now);
        }

        if (!definition.TryBind(named, out long[] values, out string? error) || !_policy.AllowsIoctl(definition, values, out error))
        {
            return Finish(request, CommandStatus.Denied, error, now);
        }

        IoctlOutcome outcome = _ioctl!.Execute(definition, values);
        return outcome.Succeeded
            ? Finish(request, CommandStatus.Applied, null, now, after: outcome.Return.ToString(System.Globalization.CultureInfo.InvariantCulture))
            : Finish(request, CommandStatus.Failed, outcome.Error, now, errno: outcome.Errno);
    }

    private CommandResult Finish(CommandRequest request, CommandStatus status, string? error, long now, string? before = null, string? after = null, int? errno = null)
    {
        var result = new CommandResult(request.Id, _hostId, status, error, before, after, now, request.Op, errno);
        Stats.OnResult(result);
        return result;
    }

    /// <summary>An invalid result names the id only as claimed_id: senders never match on it.</summary>
    private CommandResult Invalid(string? claimedId, string? op, string? error, long now)
    {
        var result = new CommandResult(null, _hostId, CommandStatus.Invalid, error, null, null, now, op, ClaimedId: claimedId);
        Stats.OnResult(result);
        return result;
    }

    private CommandResult? Ignore(string reason)
    {
        Stats.OnWrongHost();
        LastDecision = CommandDecision.Ignored;
        LastIgnoredReason = reason;
        return null;
    }

    private CommandResult? Reject(RejectReason reason, string? detail)
    {
        Stats.OnRejectedUnverified(reason);
        LastDecision = CommandDecision.Unverified;
        LastRejection = reason;
        LastIgnoredReason = detail;
        return null;
    }

    /// <summary>The id a verified but malformed body claims, for the operator's eyes only.</summary>
    private static string? ClaimedId(byte[] body)
    {
        try
        {
            MessagePackValue map = MessagePackValue.Parse(body, CommandCodec.ReaderOptions);
            return map.Type == MessagePackType.Map
                && map.TryGetValue("id", out MessagePackValue id)
                && CommandCodec.TryString(id, out string? text)
                && CommandRequest.IsValidId(text) ? text : null;
        }
        catch (Exception e) when (e is MessagePackFormatException or FormatException or OverflowException)
        {
            return null;
        }
    }

    private static string Printable(string text)
    {
        if (text.Length > 64)
        {
            text = text[..64] + "...";
        }

        var builder = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            builder.Append(char.IsControl(c) ? '?' : c);
        }

        return builder.ToString();
    }
}
