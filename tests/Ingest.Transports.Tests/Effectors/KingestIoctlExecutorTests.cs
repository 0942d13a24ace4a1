using Ingest.Transports.Effectors;
using Ingest.Transports.Interop;
using Ingest.Transports.Kingest;
using Tmds.Linux;

namespace Ingest.Transports.Tests.Effectors;

public sealed class KingestIoctlExecutorTests
{
    [Fact]
    public void Catalog_ranges_come_from_the_uapi_header()
    {
        Assert.Equal(
            [new IoctlArgument("hz", KingestAbi.RateMinHz, KingestAbi.RateMaxHz)],
            KingestIoctlExecutor.SetRate.Arguments);
        Assert.Equal(
            [new IoctlArgument("sensor_id", 0, KingestAbi.MaxSensors - 1), new IoctlArgument("threshold_mc", KingestAbi.ThresholdMinMc, KingestAbi.ThresholdMaxMc)],
            KingestIoctlExecutor.SetThreshold.Arguments);
        Assert.Empty(KingestIoctlExecutor.ResetStats.Arguments);
    }

    [Fact]
    public void Missing_device_fails_with_ENOENT()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"kingest-missing-{Guid.NewGuid():N}");
        var executor = new KingestIoctlExecutor(missing);

        IoctlOutcome outcome = executor.Execute(KingestIoctlExecutor.SetRate, [100]);

        Assert.False(outcome.Succeeded);
        Assert.Equal(-1, outcome.Return);
        Assert.Equal(LibC.ENOENT, outcome.Errno);
        Assert.Contains("KINGEST_IOC_SET_RATE", outcome.Error, StringComparison.Ordinal);
        Assert.Contains(missing, outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_device_without_the_ioctl_reports_the_kernel_errno()
    {
        // /dev/null accepts the open and refuses every ioctl: the kernel's ENOTTY comes back as is.
        var executor = new KingestIoctlExecutor("/dev/null");

        IoctlOutcome outcome = executor.Execute(KingestIoctlExecutor.ResetStats, []);

        Assert.Equal(LibC.ENOTTY, outcome.Errno);
        Assert.Contains("KINGEST_IOC_RESET_STATS", outcome.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10001)]
    [InlineData(-1)]
    public void Executor_refuses_out_of_range_arguments_before_any_syscall(long hz)
    {
        var executor = new KingestIoctlExecutor("/dev/null");

        Assert.Throws<ArgumentOutOfRangeException>(() => executor.Execute(KingestIoctlExecutor.SetRate, [hz]));
    }

    [Fact]
    public void Executor_refuses_a_wrong_argument_count_and_foreign_definitions()
    {
        var executor = new KingestIoctlExecutor("/dev/null");

        Assert.Throws<ArgumentException>(() => executor.Execute(KingestIoctlExecutor.SetThreshold, [1]));
        Assert.Throws<ArgumentException>(() => executor.Execute(new IoctlDefinition("set_rate", "X", []), []));
    }

    [Fact]
    public void TryBind_orders_arguments_and_checks_names_and_ranges()
    {
        IoctlDefinition threshold = KingestIoctlExecutor.SetThreshold;

        Assert.True(threshold.TryBind(new Dictionary<string, long> { ["threshold_mc"] = -5000, ["sensor_id"] = 3 }, out long[] values, out _));
        Assert.Equal([3L, -5000L], values);

        Assert.False(threshold.TryBind(new Dictionary<string, long> { ["sensor_id"] = 3 }, out _, out string? missing));
        Assert.Contains("needs argument 'threshold_mc'", missing, StringComparison.Ordinal);

        Assert.False(threshold.TryBind(new Dictionary<string, long> { ["sensor_id"] = 64, ["threshold_mc"] = 0 }, out _, out string? range));
        Assert.Contains("sensor_id=64 is outside 0..63", range, StringComparison.Ordinal);

        Assert.False(threshold.TryBind(new Dictionary<string, long> { ["sensor_id"] = 1, ["threshold_mc"] = 0, ["extra"] = 1 }, out _, out string? unknown));
        Assert.Contains("no argument 'extra'", unknown, StringComparison.Ordinal);
    }
}
