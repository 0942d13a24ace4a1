using System.Text;
using Ingest.Transports.Interop;
using Ingest.Transports.Upcall;
using Tmds.Linux;

namespace Ingest.Transports.Tests.Upcall;

/// <summary>Test-side encoder of the helper's message and a raw SOCK_SEQPACKET client.</summary>
internal static class UpcallWire
{
    public static byte[] Encode(IReadOnlyList<string> argv, IReadOnlyList<string> env, uint? argcOverride = null)
    {
        var body = new List<byte>();
        foreach (var s in argv.Concat(env))
        {
            body.AddRange(Encoding.UTF8.GetBytes(s));
            body.Add(0);
        }

        var message = new byte[UpcallMessage.HeaderSize + body.Count];
        BitConverter.TryWriteBytes(message.AsSpan(0), UpcallMessage.Magic);
        BitConverter.TryWriteBytes(message.AsSpan(4), argcOverride ?? (uint)argv.Count);
        BitConverter.TryWriteBytes(message.AsSpan(8), (uint)env.Count);
        body.CopyTo(message, UpcallMessage.HeaderSize);
        return message;
    }

    /// <summary>Connects to <paramref name="path"/>; returns the fd (caller closes) or -errno.</summary>
    public static unsafe int Connect(string path)
    {
        var fd = Sys.Check(LibC.socket(LibC.AF_UNIX, LibC.SOCK_SEQPACKET | LibC.SOCK_CLOEXEC, 0), "socket");
        var address = UnixSocketAddress.Create(path);
        if (LibC.connect(fd, (sockaddr*)&address, (uint)sizeof(sockaddr_un)) < 0)
        {
            var errno = Sys.LastErrno;
            LibC.close(fd);
            return -errno;
        }

        return fd;
    }

    public static unsafe void Send(int fd, ReadOnlySpan<byte> message)
    {
        fixed (byte* p = message)
        {
            Assert.Equal(message.Length, (int)Sys.Check(LibC.sendto(fd, p, message.Length, 0, null, 0), "send"));
        }
    }

    /// <summary>Connects, sends one message and closes, as the helper does.</summary>
    public static void SendOnce(string path, ReadOnlySpan<byte> message)
    {
        var fd = Connect(path);
        Assert.True(fd >= 0, $"connect({path}) failed: errno {-fd}");
        try
        {
            Send(fd, message);
        }
        finally
        {
            LibC.close(fd);
        }
    }
}
