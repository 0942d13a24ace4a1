using System.Text;
using Ingest.Encoding.MessagePack;
using Ingest.Transports.Effectors;
using Ingest.Transports.Interop;

namespace Ingest.Commands;

/// <summary>
/// Decides and applies one command record, in this order, stopping at the first refusal:
/// addressed to this host (else ignored), size, envelope, key id, signature, body, host,
/// lifetime and freshness, replay (the id is stored durably before anything is applied), op,
/// allowlist, effector. Nothing is written unless every check passed. Not thread-safe: the
/// dispatcher applies commands one at a time, in partition order.
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
        TimeProvider? time = null)
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
    }

    public CommandStats Stats { get; } = new();

    /// <summary>Why the last null return ignored a record (for the log).</summary>
    public string? LastIgnoredReason { get; private set; }

    /// <summary>Processes one record; null when it is not addressed to this host (counted, not published).</summary>
    public CommandResult? Process(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        if (!key.SequenceEqual(_hostKey))
        {
            return Ignore($"record key is not this host ({_hostId})");
        }

        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (value.Length > _options.MaxRecordBytes)
        {
            return Finish(null, CommandStatus.Invalid, $"record of {value.Length} bytes exceeds the {_options.MaxRecordBytes}-byte limit", now);
        }

        if (!CommandCodec.TryDecodeEnvelope(value, out CommandEnvelope envelope, out string? error))
        {
            return Finish(null, CommandStatus.Invalid, error, now);
        }

        string? claimedId = ClaimedId(envelope.Body);
        if (!_keys.Contains(envelope.KeyId))
        {
            return Finish(claimedId, CommandStatus.Invalid, $"unknown key id '{Printable(envelope.KeyId)}'", now);
        }

        if (!_keys.Verify(envelope.KeyId, envelope.Body, envelope.Signature))
        {
            return Finish(claimedId, CommandStatus.Invalid, "bad signature", now);
        }

        if (!CommandCodec.TryDecodeBody(envelope.Body, out CommandRequest? request, out error))
        {
            return Finish(claimedId, CommandStatus.Invalid, error, now);
        }

        if (request!.Host != _hostId)
        {
            return Ignore($"command {request.Id} is signed for host '{request.Host}', not this host ({_hostId})");
        }

        long skew = _options.ClockSkewSeconds * 1000L;
        long lifetime = request.ExpiresAtMs - request.IssuedAtMs;
        if (lifetime <= 0 || lifetime > _options.MaxLifetimeSeconds * 1000L)
        {
            return Finish(request, CommandStatus.Invalid, $"expires_at - issued_at must be between 1 ms and {_options.MaxLifetimeSeconds} s", now);
        }

        if (request.IssuedAtMs > now + skew)
        {
            return Finish(request, CommandStatus.Invalid, $"issued_at is {request.IssuedAtMs - now} ms in the future (more than the {_options.ClockSkewSeconds} s skew allowed)", now);
        }

        if (now > request.ExpiresAtMs + skew)
        {
            return Finish(request, CommandStatus.Expired, $"expired {now - request.ExpiresAtMs} ms ago", now);
        }

        if (!_replay.TryAdd(request.Id, request.ExpiresAtMs + skew, now))
        {
            return Finish(request, CommandStatus.Replayed, $"command id {request.Id} was already received", now);
        }

        return request.Op switch
        {
            CommandOps.SysctlWrite => ApplySysctl(request, now),
            CommandOps.Ioctl => ApplyIoctl(request, now),
            _ => Finish(request, CommandStatus.Invalid, $"unknown op '{Printable(request.Op)}' (expected {CommandOps.SysctlWrite} or {CommandOps.Ioctl})", now),
        };
    }

    private CommandResult ApplySysctl(CommandRequest request, long now)
    {
        MessagePackValue args = request.Args;
        if (args.Entries.Count != 2
            || !args.TryGetValue("key", out MessagePackValue keyValue) || !CommandCodec.TryString(keyValue, out string? keyText)
            || !args.TryGetValue("value", out MessagePackValue valueValue) || !CommandCodec.TryString(valueValue, out string? value))
        {
            return Finish(request, CommandStatus.Invalid, "sysctl.write args must be exactly {key: str, value: str}", now);
        }

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
            return Finish(request, CommandStatus.Applied, null, now, written.Before, written.After);
        }
        catch (ErrnoException e)
        {
            return Finish(request, CommandStatus.Failed, $"{key!.Name}: {e.Message}", now, errno: e.Errno);
        }
        catch (Exception e) when (e is IOException or ArgumentException)
        {
            return Finish(request, CommandStatus.Failed, $"{key!.Name}: {e.Message}", now);
        }
    }

    private CommandResult ApplyIoctl(CommandRequest request, long now)
    {
        MessagePackValue args = request.Args;
        if (!args.TryGetValue("name", out MessagePackValue nameValue) || !CommandCodec.TryString(nameValue, out string? name))
        {
            return Finish(request, CommandStatus.Invalid, "ioctl args need name: str", now);
        }

        if (args.Entries.Count(static e => e.Key.AsString() == "name") != 1)
        {
            return Finish(request, CommandStatus.Invalid, "ioctl args need exactly one name", now);
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
                return Finish(request, CommandStatus.Invalid, $"ioctl argument '{Printable(argName)}' must be an integer", now);
            }

            // A repeated argument is ambiguous: refuse rather than pick one.
            if (!named.TryAdd(argName, number))
            {
                return Finish(request, CommandStatus.Invalid, $"ioctl argument '{Printable(argName)}' is repeated", now);
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

    private CommandResult Finish(string? claimedId, CommandStatus status, string? error, long now)
    {
        var result = new CommandResult(claimedId, _hostId, status, error, null, null, now);
        Stats.OnResult(result);
        return result;
    }

    private CommandResult? Ignore(string reason)
    {
        Stats.OnWrongHost();
        LastIgnoredReason = reason;
        return null;
    }

    /// <summary>The id an unverified body claims, so the sender can match its result; never trusted otherwise.</summary>
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
