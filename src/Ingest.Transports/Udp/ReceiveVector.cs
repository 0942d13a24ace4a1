using System.Runtime.InteropServices;
using Ingest.Transports.Interop;
using Tmds.Linux;

namespace Ingest.Transports.Udp;

/// <summary>
/// The recvmmsg vector: <c>count</c> message headers, each with one payload slot, room for the
/// sender's address and for the control messages (receive timestamp, drop count). One native
/// block allocated once; nothing is allocated per datagram.
/// </summary>
internal sealed unsafe class ReceiveVector : IDisposable
{
    // CMSG_SPACE(sizeof(timespec)) + CMSG_SPACE(sizeof(uint)) = 32 + 24, rounded up.
    internal const int ControlSize = 64;

    // sizeof(sockaddr_in6) is 28: the larger of the two families this socket can see.
    private const int AddressSize = 32;

    private readonly int _slotSize;
    private byte* _block;

    public ReceiveVector(int count, int slotSize)
    {
        Count = count;
        _slotSize = slotSize;

        var headers = (nuint)(count * sizeof(mmsghdr));
        var iovecs = (nuint)(count * sizeof(iovec));
        var addresses = (nuint)(count * AddressSize);
        var controls = (nuint)(count * ControlSize);
        var payloads = (nuint)count * (nuint)slotSize;
        _block = (byte*)NativeMemory.AlignedAlloc(headers + iovecs + addresses + controls + payloads, 64);

        // Only the fixed-size parts are cleared: payload pages stay untouched until a datagram
        // lands in them, which is what makes a large slot size cheap.
        NativeMemory.Clear(_block, headers + iovecs + addresses + controls);
        Messages = (mmsghdr*)_block;
        var iov = (iovec*)(_block + headers);
        var address = _block + headers + iovecs;
        var control = address + addresses;
        var payload = control + controls;
        for (var i = 0; i < count; i++)
        {
            iov[i].iov_base = payload + ((nuint)i * (nuint)slotSize);
            iov[i].iov_len = slotSize;
            var hdr = Header(i);
            hdr->msg_iov = &iov[i];
            hdr->msg_iovlen = 1;
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

    public ReadOnlySpan<byte> Payload(int index, int length) =>
        new(Header(index)->msg_iov->iov_base, Math.Min(length, _slotSize));

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
