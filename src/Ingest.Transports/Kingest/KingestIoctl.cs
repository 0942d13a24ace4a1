using System.Runtime.CompilerServices;

namespace Ingest.Transports.Kingest;

/// <summary>
/// The ioctl numbers of /dev/kingest, computed like the kernel's _IOC macros from the header's
/// direction, magic, number and argument type, so a changed structure changes its number here too.
/// </summary>
public static class KingestIoctl
{
    public const byte Magic = 0xB7;

    // asm-generic/ioctl.h (x86-64): nr 8 bits, type 8 bits, size 14 bits, dir 2 bits.
    private const int NrShift = 0;
    private const int TypeShift = 8;
    private const int SizeShift = 16;
    private const int DirShift = 30;
    private const uint DirNone = 0;
    private const uint DirWrite = 1;
    private const uint DirRead = 2;
    private const int SizeBits = 14;

    public static readonly uint GetInfo = Ior<KingestInfo>(0x00);
    public static readonly uint Wait = Iowr<KingestWait>(0x01);
    public static readonly uint SubscribeSignal = Iow<KingestSignalSubscription>(0x02);
    public static readonly uint UnsubscribeSignal = Io(0x03);
    public static readonly uint SetRate = Iow<uint>(0x04);
    public static readonly uint SetThreshold = Iow<KingestThreshold>(0x05);
    public static readonly uint ResetStats = Io(0x06);
    public static readonly uint GetStats = Ior<KingestStats>(0x07);
    public static readonly uint Inject = Iow<KingestInject>(0x08);
    public static readonly uint WaitRead = Iowr<KingestWaitRead>(0x09);

    /// <summary>_IOC(dir, type, nr, size).</summary>
    public static uint Ioc(uint direction, byte type, byte number, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(size, 1 << SizeBits);
        return (direction << DirShift) | ((uint)size << SizeShift) | ((uint)type << TypeShift) | ((uint)number << NrShift);
    }

    private static uint Io(byte number) => Ioc(DirNone, Magic, number, 0);

    private static uint Ior<T>(byte number)
        where T : unmanaged => Ioc(DirRead, Magic, number, Unsafe.SizeOf<T>());

    private static uint Iow<T>(byte number)
        where T : unmanaged => Ioc(DirWrite, Magic, number, Unsafe.SizeOf<T>());

    private static uint Iowr<T>(byte number)
        where T : unmanaged => Ioc(DirRead | DirWrite, Magic, number, Unsafe.SizeOf<T>());
}
