using System.Buffers.Binary;
using System.Text;
using Ingest.Transports.Interop;
using Tmds.Linux;

namespace Ingest.Transports.Netlink;

/// <summary>
/// Asks the generic netlink controller for a family by name (CTRL_CMD_GETFAMILY) and returns
/// its id, version and multicast groups. Families are registered by the kernel and its modules
/// and may come and go at run time; the id is assigned at registration, so resolve by name.
/// </summary>
public sealed class GenericNetlinkResolver : IDisposable
{
    private const int GenlHeaderSize = 4;
    private const int ENOENT = 2;

    private readonly NetlinkSocket _socket;
    private readonly byte[] _buffer = new byte[32 * 1024];
    private uint _sequence;

    public GenericNetlinkResolver(string? networkNamespace = null)
    {
        _socket = NetlinkSocket.Open(NetlinkProtocol.Generic, networkNamespace: networkNamespace);
    }

    /// <summary>
    /// The family named <paramref name="name"/>, or null when the kernel has none by that name.
    /// Throws <see cref="ErrnoException"/> for other errors, <see cref="TimeoutException"/> when
    /// the controller does not answer and <see cref="InvalidDataException"/> for a reply it cannot read.
    /// </summary>
    public GenericNetlinkFamily? Resolve(string name, int timeoutMs = 2000)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var sequence = ++_sequence;
        _socket.Send(BuildGetFamily(name, sequence));
        var deadline = Environment.TickCount64 + timeoutMs;
        while (true)
        {
            var result = _socket.TryReceive(_buffer);
            if (result.Status == NetlinkReceiveStatus.WouldBlock)
            {
                var left = deadline - Environment.TickCount64;
                if (left <= 0)
                {
                    throw new TimeoutException($"nlctrl did not answer CTRL_CMD_GETFAMILY for '{name}' within {timeoutMs} ms");
                }

                _socket.Wait((int)left);
                continue;
            }

            if (result.Status != NetlinkReceiveStatus.Data || !result.FromKernel)
            {
                continue; // a unicast reply cannot overrun; anything else is not our answer
            }

            var messages = new NetlinkMessageReader(_buffer.AsSpan(0, result.Length));
            while (messages.TryRead(out var message))
            {
                if (message.Sequence != sequence)
                {
                    continue;
                }

                if (message.Type == Sys.NLMSG_ERROR)
                {
                    var error = message.Payload.Length >= 4 ? -BinaryPrimitives.ReadInt32LittleEndian(message.Payload) : LibC.EINVAL;
                    return error == ENOENT ? null : throw new ErrnoException($"CTRL_CMD_GETFAMILY({name})", error);
                }

                if (message.Type == Sys.GENL_ID_CTRL && message.Payload.Length >= GenlHeaderSize
                    && GenericNetlinkFamily.TryParse(message.Payload[GenlHeaderSize..], out var family))
                {
                    return family;
                }

                throw new InvalidDataException($"unreadable CTRL_CMD_GETFAMILY reply for '{name}'");
            }
        }
    }

    public void Dispose() => _socket.Dispose();

    internal static byte[] BuildGetFamily(string name, uint sequence)
    {
        var nameBytes = Encoding.UTF8.GetByteCount(name) + 1;
        var attributeLength = NetlinkAttributeReader.HeaderSize + nameBytes;
        var length = NetlinkMessageReader.HeaderSize + GenlHeaderSize + Sys.NetlinkAlign(attributeLength);
        var message = new byte[length];
        var span = message.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], Sys.GENL_ID_CTRL);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], Sys.NLM_F_REQUEST);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], sequence);
        span[16] = Sys.CTRL_CMD_GETFAMILY;
        span[17] = 1; // controller version
        BinaryPrimitives.WriteUInt16LittleEndian(span[20..], (ushort)attributeLength);
        BinaryPrimitives.WriteUInt16LittleEndian(span[22..], Sys.CTRL_ATTR_FAMILY_NAME);
        Encoding.UTF8.GetBytes(name, span[24..]);
        return message;
    }
}
