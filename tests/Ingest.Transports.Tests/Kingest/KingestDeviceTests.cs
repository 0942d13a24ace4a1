using Ingest.Transports.Interop;
using Ingest.Transports.Kingest;
using Ingest.Transports.Ring;
using Tmds.Linux;

namespace Ingest.Transports.Tests.Kingest;

/// <summary>Failures of the device helpers and of ring mapping checks, on the host (no module needed).</summary>
public sealed class KingestDeviceTests
{
    [Fact]
    public void An_ioctl_on_the_wrong_device_throws_with_errno_and_the_call_name()
    {
        using var device = KingestDevice.Open("/dev/null");

        var error = Assert.Throws<ErrnoException>(() => device.GetInfo());
        Assert.Equal(LibC.ENOTTY, error.Errno);
        Assert.Equal("ioctl KINGEST_IOC_GET_INFO", error.Call);
    }

    [Fact]
    public void Opening_a_missing_device_throws_with_errno_and_the_path()
    {
        var error = Assert.Throws<ErrnoException>(() => KingestDevice.Open("/dev/kingest-absent"));
        Assert.Equal(LibC.ENOENT, error.Errno);
        Assert.Contains("/dev/kingest-absent", error.Call, StringComparison.Ordinal);
    }

    [Fact]
    public void Mapping_the_wrong_device_as_a_ring_fails_cleanly()
    {
        // /dev/zero maps, but its "meta page" is all zeros: no kingest magic.
        var error = Assert.Throws<InvalidDataException>(() => KingestDeviceRing.Open("/dev/zero"));
        Assert.Contains("magic", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("magic")]
    [InlineData("abi")]
    [InlineData("header")]
    [InlineData("size")]
    public unsafe void A_ring_whose_meta_page_this_build_cannot_read_is_refused(string corrupt)
    {
        using var ring = new MemoryRing(64 * 1024);
        switch (corrupt)
        {
            case "magic": ring.Meta->Magic = 0x12345678; break;
            case "abi": ring.Meta->AbiVersion = KingestAbi.AbiVersion + 1; break;
            case "header": ring.Meta->HeaderSize = 32; break;
            default: ring.Meta->DataSize = 96 * 1024; break;
        }

        Assert.Throws<InvalidDataException>(() => ring.OpenConsumerMapping());
    }
}
