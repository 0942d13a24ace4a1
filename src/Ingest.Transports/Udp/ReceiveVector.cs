using System.Runtime.InteropServices;
using Ingest.Transports.Interop;
using Tmds.Linux;

namespace Ingest.Transports.Udp;

/// <summary>
/// The recvmmsg vector: <c>count</c> message headers, each with room for the sender's address,
/// for the control messages (receive timestamp, drop count) and for one datagram of up to
/// <c>slotSize</c> bytes. One native block allocated once; nothing is allocated per datagram.
/// </summary>
/// <remarks>
/// Each datagram lands in two iovecs: a small head slot, packed with the other heads, and a tail
/// slot for the rest of a large datagram. One 64 KiB slot per message put every datagram's bytes
/// 64 KiB apart: 256 pages (a TLB miss per datagram) whose first cache lines all share one cache
/// set, for the kernel's copy and again for ours. Packed heads make a batch of small datagrams
/// one contiguous, cache-friendly region; the tail slots are touched only by datagrams larger
/// than a head, which <see cref="Payload"/> joins in a scratch buffer.
/// </remarks>
internal sealed unsafe class ReceiveVector : IDisposable
{
    // CMSG_SPACE(sizeof(timespec)) + CMSG_SPACE(sizeof(uint)) = 32 + 24, rounded up.
    internal const int ControlSize = 64;

    /// <summary>Bytes of each datagram that land in the packed head slots.</summary>
    internal const int HeadSize = 2048;

    // sizeof(sockaddr_in6) is 28: the larger of the two families this socket can see.
    private const int AddressSize = 32;

    private readonly int _slotSize;
    private readonly int _headSize;
    private readonly byte* _scratch;
    private byte* _block;

    public ReceiveVector(int count, int slotSize)
    {
        Count = count;
        _slotSize = slotSize;
        _headSize = Math.Min(HeadSize, slotSize);
        var tailSize = slotSize - _headSize;

        var headers = (nuint)(count * sizeof(mmsghdr));
        var iovecs = (nuint)(count * 2 * sizeof(iovec));
        var addresses = (nuint)(count * AddressSize);
        var controls = (nuint)(count * ControlSize);
        var heads = (nuint)count * (nuint)_headSize;
        var tails = ((nuint)count * (nuint)tailSize) + (nuint)slotSize;
        _block = (byte*)NativeMemory.AlignedAlloc(headers + iovecs + addresses + controls + heads + tails, 64);

        // Only the fixed-size parts are cleared: tail pages stay untouched until a large datagram
        // lands in them, which is what makes a large slot size cheap.
        NativeMemory.Clear(_block, headers + iovecs + addresses + controls);
        Messages = (mmsghdr*)_block;
        var iov = (iovec*)(_block + headers);
        var address = _block + headers + iovecs;
        var control = address + addresses;
        var head = control + controls;
        var tail = head + heads;
        _scratch = tail + ((nuint)count * (nuint)tailSize);
        for (var i = 0; i < count; i++)
        {
            iov[2 * i].iov_base = head + ((nuint)i * (nuint)_headSize);
            iov[2 * i].iov_len = _headSize;
            iov[(2 * i) + 1].iov_base = tail + ((nuint)i * (nuint)tailSize);
            iov[(2 * i) + 1].iov_len = tailSize;
            var hdr = Header(i);
            hdr->msg_iov = &iov[2 * i];
            hdr->msg_iovlen = tailSize > 0 ? 2 : 1;
            hdr->msg_name = address + (i * AddressSize);
            hdr->msg_control = control + (i * ControlSize);
        }

        Rearm();
    }

    public int Count { get; }

    public mmsghdr* Messages { get; }

    /// <summary>The message header of entry <paramref name="index"/>: mmsghdr's first member, so its
    /// address (Tmds.LibC exposes msg_hdr as a property, which cannot be taken by reference).</summary>
    public msghdr* Header(int index) => (msghdr*)(Messages + index);

    /// <summary>
    /// The datagram of entry <paramref name="index"/>: its head slot, or, when it spilled into its
    /// tail slot, both joined in a scratch buffer that the next call may overwrite.
    /// </summary>
    public ReadOnlySpan<byte> Payload(int index, int length)
    {
        length = Math.Min(length, _slotSize);
        var iov = Header(index)->msg_iov;
        if (length <= _headSize)
        {
            return new(iov[0].iov_base, length);
        }

        Buffer.MemoryCopy(iov[0].iov_base, _scratch, _slotSize, _headSize);
        Buffer.MemoryCopy(iov[1].iov_base, _scratch + _headSize, _slotSize - _headSize, length - _headSize);
        return new(_scratch, length);
    }

    public ReadOnlySpan<byte> Address(int index) =>
        new(Header(index)->msg_name, (int)(uint)Header(index)->msg_namelen);

    /// <summary>
    /// Restores the in/out lengths the kernel shrank on the previous call. Only the first
    /// <paramref name="used"/> headers were touched.
    /// </summary>
    public void Rearm(int used = -1)
    {
        if (used < 0)
        {
            used = Count;
        }

        for (var i = 0; i < used; i++)
        {
            var hdr = Header(i);
            hdr->msg_namelen = AddressSize;
            hdr->msg_controllen = ControlSize;
            hdr->msg_flags = 0;
        }
    }

    public void Dispose()
    {
        if (_block is not null)
        {
            NativeMemory.AlignedFree(_block);
            _block = null;
        }
    }
}
