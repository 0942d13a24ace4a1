using System.Buffers.Text;
using Ingest.Transports.Events;
using Microsoft.Extensions.Logging;

namespace Ingest.Transports.Netlink;

/// <summary>
/// Kernel uevents (NETLINK_KOBJECT_UEVENT, group 1): "ACTION@DEVPATH\0KEY=VALUE\0..." becomes a
/// <c>uevent</c> event {action, devpath, subsystem, seqnum, env}. udevd re-broadcasts processed
/// events on group 2 with a "libudev" header from its own port; those are never kernel events
/// and are rejected ("foreign_sender" by port, "libudev" by header if one ever came from port 0).
/// </summary>
public sealed class UeventSource : NetlinkSource
{
    /// <summary>The kernel's uevent multicast group (udevd uses 2 for its processed events).</summary>
    public const uint KernelGroup = 1;

    private static readonly EventName Uevent = new("uevent");
    private static readonly EventName Action = new("action");
    private static readonly EventName DevPath = new("devpath");
    private static readonly EventName Subsystem = new("subsystem");
    private static readonly EventName SeqNum = new("seqnum");
    private static readonly EventName Env = new("env");

    /// <summary>Longest environment key accepted; longer ones make the datagram malformed.</summary>
    public const int MaxKeyLength = 256;

    /// <summary>Distinct uevent keys remembered: the kernel's set (ACTION, DEVPATH, ...) is small and stable.</summary>
    public const int KeyCacheCapacity = 1024;

    private readonly EventNameCache _keys = new(KeyCacheCapacity);
    private readonly Counter _libudev;
    private readonly Counter _duplicateKey;

    public UeventSource(NetlinkSourceOptions? options = null, ILogger? logger = null)
        : base(NetlinkProtocol.KobjectUevent, KernelGroup, options, logger)
    {
        _libudev = Counters["libudev"];
        _duplicateKey = Counters["duplicate_key"];
    }

    public override string Name => "uevent";

    protected override void OnDatagram(NetlinkSocket socket, ReadOnlySpan<byte> datagram, EventWriter writer, long receivedNs)
    {
        if (datagram.StartsWith("libudev\0"u8))
        {
            _libudev.Increment();
            return;
        }

        if (!TryWrite(datagram, writer, receivedNs, _keys, _duplicateKey))
        {
            Malformed.Increment();
        }
    }

    /// <summary>
    /// Parses one kernel uevent and writes it; false (nothing written) when it is malformed: no
    /// "@" header, an entry without "=", a key over <see cref="MaxKeyLength"/>
    /// bytes or a SEQNUM that is not a number. A repeated key keeps its first value and is counted
    /// in <paramref name="duplicates"/>.
    /// </summary>
    internal static bool TryWrite(ReadOnlySpan<byte> datagram, EventWriter writer, long timestampNs, EventNameCache keys, Counter duplicates)
    {
        var headerEnd = datagram.IndexOf((byte)0);
        var header = headerEnd < 0 ? datagram : datagram[..headerEnd];
        var at = header.IndexOf((byte)'@');
        if (at <= 0 || at == header.Length - 1)
        {
            return false;
        }

        // First pass: validate every entry and find the fields promoted out of env.
        var body = headerEnd < 0 ? default : datagram[(headerEnd + 1)..];
        ReadOnlySpan<byte> subsystem = default;
        ulong? seqNum = null;
        var envCount = 0;
        var index = 0;
        foreach (var entry in new UeventEntries(body))
        {
            var eq = entry.IndexOf((byte)'=');
            if (eq <= 0 || eq > MaxKeyLength)
            {
                return false;
            }

            var key = entry[..eq];
            var value = entry[(eq + 1)..];
            if (IsRepeat(body, index++, key))
            {
                duplicates.Increment();
            }
            else if (key.SequenceEqual("SUBSYSTEM"u8))
            {
                subsystem = value;
            }
            else if (key.SequenceEqual("SEQNUM"u8))
            {
                if (!Utf8Parser.TryParse(value, out ulong n, out var consumed) || consumed != value.Length)
                {
                    return false;
                }

                seqNum = n;
            }
            else if (!IsHeaderKey(key))
            {
                envCount++;
            }
        }

        writer.BeginEvent(Uevent, timestampNs, 5);
        writer.WriteString(Action, header[..at]);
        writer.WriteString(DevPath, header[(at + 1)..]);
        writer.WriteKey(Subsystem);
        if (subsystem.IsEmpty)
        {
            writer.WriteNil();
        }
        else
        {
            writer.WriteString(subsystem);
        }

        writer.WriteKey(SeqNum);
        if (seqNum is { } seq)
        {
            writer.Write(seq);
        }
        else
        {
            writer.WriteNil();
        }

        writer.WriteKey(Env);
        writer.WriteMapHeader(envCount);
        index = 0;
        foreach (var entry in new UeventEntries(body))
        {
            var eq = entry.IndexOf((byte)'=');
            var key = entry[..eq];
            if (IsRepeat(body, index++, key) || IsHeaderKey(key) || key.SequenceEqual("SUBSYSTEM"u8) || key.SequenceEqual("SEQNUM"u8))
            {
                continue;
            }

            writer.WriteKey(keys.Get(key));
            writer.WriteString(entry[(eq + 1)..]);
        }

        writer.EndEvent();
        return true;
    }

    // ACTION and DEVPATH repeat the header; the event carries them once, as fields.
    private static bool IsHeaderKey(ReadOnlySpan<byte> key) => key.SequenceEqual("ACTION"u8) || key.SequenceEqual("DEVPATH"u8);

    // Whether an entry before position index has the same key: the first one wins (a map holds a
    // key once). Uevents have a few dozen entries at most, so a rescan is cheaper than a set.
    private static bool IsRepeat(ReadOnlySpan<byte> body, int index, ReadOnlySpan<byte> key)
    {
        var i = 0;
        foreach (var other in new UeventEntries(body))
        {
            if (i++ >= index)
            {
                return false;
            }

            var eq = other.IndexOf((byte)'=');
            if (eq > 0 && other[..eq].SequenceEqual(key))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The NUL-separated entries after the header; empty ones (trailing NULs) are skipped.</summary>
    private ref struct UeventEntries(ReadOnlySpan<byte> body)
    {
        private ReadOnlySpan<byte> _rest = body;

        public ReadOnlySpan<byte> Current { get; private set; }

        public readonly UeventEntries GetEnumerator() => this;

        public bool MoveNext()
        {
            while (!_rest.IsEmpty)
            {
                var end = _rest.IndexOf((byte)0);
                Current = end < 0 ? _rest : _rest[..end];
                _rest = end < 0 ? default : _rest[(end + 1)..];
                if (!Current.IsEmpty)
                {
                    return true;
                }
            }

            return false;
        }
    }
}
