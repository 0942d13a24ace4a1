using System.Text;
using Ingest.Transports.Events;
using Ingest.Transports.Interop;
using Ingest.Transports.Kingest;
using Microsoft.Extensions.Logging;

namespace Ingest.Transports.Netlink;

/// <summary>
/// Events a generic netlink family multicasts on one group, "kingest"/"events" by default. The
/// family is resolved by name when the source starts; while it is absent (the module is not
/// loaded) the source says so, counts "family_absent" and retries every
/// <see cref="RetryInterval"/>. It also listens to the controller's "notify" group, so it joins
/// as soon as the family registers and lets go when it unregisters ("family_removed"); the retry
/// is only a safety net, so it is rare: an idle daemon should not wake for it.
/// kingest events are decoded (type <c>kingest</c>); other families are written generically
/// (type <c>genl</c>: {family, cmd, version, attrs: [[type, bytes], ...]}).
/// </summary>
public sealed class GenericNetlinkSource : NetlinkSource
{
    private const int GenlHeaderSize = 4;

    private static readonly EventName Genl = new("genl");
    private static readonly EventName FamilyKey = new("family");
    private static readonly EventName Cmd = new("cmd");
    private static readonly EventName Version = new("version");
    private static readonly EventName Attrs = new("attrs");

    private readonly string _familyName;
    private readonly byte[] _familyNameUtf8;
    private readonly string _groupName;
    private readonly bool _isKingest;
    private readonly Counter _familyAbsent;
    private readonly Counter _groupAbsent;
    private readonly Counter _familyRemoved;
    private readonly Counter _ignored;
    private readonly Counter _unknownType;
    private readonly Counter _resolveErrors;
    private EventName? _familyValue;
    private volatile GenericNetlinkFamily? _family;
    private bool _absenceLogged;

    public GenericNetlinkSource(
        string family = KingestGenl.FamilyName,
        string group = KingestGenl.EventsGroup,
        NetlinkSourceOptions? options = null,
        ILogger? logger = null)
        : base(NetlinkProtocol.Generic, groupMask: 0, options, logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(family);
        ArgumentException.ThrowIfNullOrEmpty(group);
        _familyName = family;
        _familyNameUtf8 = Encoding.UTF8.GetBytes(family);
        _groupName = group;
        _isKingest = family == KingestGenl.FamilyName;
        Name = $"genl:{family}/{group}";
        _familyAbsent = Counters["family_absent"];
        _groupAbsent = Counters["group_absent"];
        _familyRemoved = Counters["family_removed"];
        _ignored = Counters["ignored"];
        _unknownType = Counters["unknown_type"];
        _resolveErrors = Counters["resolve_errors"];
    }

    public override string Name { get; }

    /// <summary>
    /// How often to look for the family again while it is absent. The controller's notify group
    /// already reports its registration at once; this only covers a missed notification.
    /// </summary>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The family as last resolved; null while it is absent.</summary>
    public GenericNetlinkFamily? Family => _family;

    protected override int IdleTimeoutMs => _family is null ? (int)RetryInterval.TotalMilliseconds : -1;

    protected override void Subscribe(NetlinkSocket socket)
    {
        using (var resolver = new GenericNetlinkResolver(Options.NetworkNamespace))
        {
            // nlctrl and its "notify" group exist in every kernel with generic netlink.
            var control = resolver.Resolve("nlctrl") ?? throw new InvalidOperationException("generic netlink controller 'nlctrl' not found");
            if (control.MulticastGroups.TryGetValue("notify", out var notify))
            {
                socket.JoinGroup(notify);
            }
        }

        TryResolve(socket);
    }

    protected override void OnIdle(NetlinkSocket socket)
    {
        // Wait also returns early on a signal; only look again while the family is missing.
        if (_family is null)
        {
            TryResolve(socket);
        }
    }

    protected override void OnDatagram(NetlinkSocket socket, ReadOnlySpan<byte> datagram, EventWriter writer, long receivedNs) =>
        WriteDatagram(socket, datagram, writer, receivedNs);

    /// <summary>Handles one kernel datagram; <paramref name="socket"/> may be null in unit tests.</summary>
    internal void WriteDatagram(NetlinkSocket? socket, ReadOnlySpan<byte> datagram, EventWriter writer, long receivedNs)
    {
        var messages = new NetlinkMessageReader(datagram);
        while (messages.TryRead(out var message))
        {
            if (message.Payload.Length < GenlHeaderSize)
            {
                Malformed.Increment();
                continue;
            }

            var cmd = message.Payload[0];
            var attributes = message.Payload[GenlHeaderSize..];
            if (message.Type == Sys.GENL_ID_CTRL)
            {
                OnControl(socket, cmd, attributes);
            }
            else if (_family is { } family && message.Type == family.Id)
            {
                if (!TryWrite(cmd, message.Payload[1], attributes, writer, receivedNs))
                {
                    Malformed.Increment();
                }
            }
            else
            {
                _ignored.Increment();
            }
        }

        if (messages.IsMalformed)
        {
            Malformed.Increment();
        }
    }

    /// <summary>Takes a family (from a notification or a test) as resolved and joins its group.</summary>
    internal bool Adopt(NetlinkSocket? socket, GenericNetlinkFamily family)
    {
        if (!family.MulticastGroups.TryGetValue(_groupName, out var group))
        {
            _groupAbsent.Increment();
            Logger.LogError(
                "{Source}: generic netlink family '{Family}' has no multicast group '{Group}' (it has: {Groups}); retrying",
                Name,
                _familyName,
                _groupName,
                string.Join(", ", family.MulticastGroups.Keys));
            return false;
        }

        socket?.JoinGroup(group);
        _familyValue = new EventName(family.Name);
        _family = family;
        _absenceLogged = false;
        Logger.LogInformation("{Source}: joined family {Family} (id {Id}, version {Version}) group {Group} (id {GroupId})", Name, family.Name, family.Id, family.Version, _groupName, group);
        return true;
    }

    private void TryResolve(NetlinkSocket socket)
    {
        GenericNetlinkFamily? family;
        try
        {
            using var resolver = new GenericNetlinkResolver(Options.NetworkNamespace);
            family = resolver.Resolve(_familyName);
        }
        catch (Exception e) when (e is IOException or TimeoutException or InvalidDataException)
        {
            _resolveErrors.Increment();
            Logger.LogError(e, "{Source}: resolving generic netlink family '{Family}' failed; retrying", Name, _familyName);
            return;
        }

        if (family is null)
        {
            _familyAbsent.Increment();
            if (!_absenceLogged)
            {
                _absenceLogged = true;
                Logger.LogError(
                    "{Source}: generic netlink family '{Family}' is not registered (is its kernel module loaded?); retrying every {Seconds} s",
                    Name,
                    _familyName,
                    RetryInterval.TotalSeconds);
            }

            return;
        }

        Adopt(socket, family);
    }

    private void OnControl(NetlinkSocket? socket, byte cmd, ReadOnlySpan<byte> attributes)
    {
        if (cmd is not (Sys.CTRL_CMD_NEWFAMILY or Sys.CTRL_CMD_DELFAMILY)
            || !GenericNetlinkFamily.FindName(attributes).SequenceEqual(_familyNameUtf8))
        {
            _ignored.Increment();
            return;
        }

        if (cmd == Sys.CTRL_CMD_DELFAMILY)
        {
            if (_family is not null)
            {
                _family = null;
                _familyRemoved.Increment();
                Logger.LogWarning("{Source}: generic netlink family '{Family}' unregistered (module unloaded?); waiting for it to return", Name, _familyName);
            }

            return;
        }

        if (_family is null)
        {
            if (GenericNetlinkFamily.TryParse(attributes, out var family))
            {
                Adopt(socket, family!);
            }
            else
            {
                Malformed.Increment();
            }
        }
    }

    private bool TryWrite(byte cmd, byte version, ReadOnlySpan<byte> attributes, EventWriter writer, long receivedNs)
    {
        if (_isKingest && cmd == KingestGenl.CmdEvent)
        {
            return KingestGenlEvent.TryWrite(attributes, writer, receivedNs, _unknownType);
        }

        // Unknown family or command: every top-level attribute, as [type, bytes] pairs (types may
        // repeat, so not a map); nested ones stay opaque bytes.
        var count = 0;
        var reader = new NetlinkAttributeReader(attributes);
        while (reader.TryRead(out _))
        {
            count++;
        }

        if (reader.IsMalformed)
        {
            return false;
        }

        writer.BeginEvent(Genl, receivedNs, 4);
        writer.Write(FamilyKey, _familyValue!);
        writer.Write(Cmd, (ulong)cmd);
        writer.Write(Version, (ulong)version);
        writer.WriteKey(Attrs);
        writer.WriteArrayHeader(count);
        reader = new NetlinkAttributeReader(attributes);
        while (reader.TryRead(out var attribute))
        {
            writer.WriteArrayHeader(2);
            writer.Write((ulong)attribute.RawType);
            writer.WriteBinary(attribute.Value);
        }

        writer.EndEvent();
        return true;
    }
}
