using Ingest.Transports.Interop;
using Ingest.Transports.Kingest;

namespace Ingest.Transports.Effectors;

/// <summary>
/// Runs the state-changing ioctls of /dev/kingest through the uapi mirror
/// (<see cref="KingestDevice"/>). Arguments arrive bound and range-checked against the header's
/// limits; the kernel checks them again and its errno is reported as is. The device is opened
/// per command: commands are rare, and a module reloaded in between is picked up.
/// </summary>
public sealed class KingestIoctlExecutor : IIoctlExecutor
{
    public static readonly IoctlDefinition SetRate = new(
        "set_rate", "KINGEST_IOC_SET_RATE", [new IoctlArgument("hz", KingestAbi.RateMinHz, KingestAbi.RateMaxHz)]);

    public static readonly IoctlDefinition SetThreshold = new(
        "set_threshold",
        "KINGEST_IOC_SET_THRESHOLD",
        [
            new IoctlArgument("sensor_id", 0, KingestAbi.MaxSensors - 1),
            new IoctlArgument("threshold_mc", KingestAbi.ThresholdMinMc, KingestAbi.ThresholdMaxMc),
        ]);

    public static readonly IoctlDefinition ResetStats = new("reset_stats", "KINGEST_IOC_RESET_STATS", []);

    private static readonly IoctlDefinition[] s_definitions = [SetRate, SetThreshold, ResetStats];

    private readonly string _devicePath;

    public KingestIoctlExecutor(string devicePath = KingestAbi.DevicePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(devicePath);
        _devicePath = devicePath;
    }

    public IReadOnlyList<IoctlDefinition> Definitions => s_definitions;

    public IoctlOutcome Execute(IoctlDefinition definition, ReadOnlySpan<long> values)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (Array.IndexOf(s_definitions, definition) < 0)
        {
            throw new ArgumentException($"ioctl {definition.Name} is not one of this executor's definitions", nameof(definition));
        }

        if (values.Length != definition.Arguments.Count)
        {
            throw new ArgumentException($"ioctl {definition.Name} takes {definition.Arguments.Count} arguments, got {values.Length}", nameof(values));
        }

        for (int i = 0; i < values.Length; i++)
        {
            IoctlArgument argument = definition.Arguments[i];
            ArgumentOutOfRangeException.ThrowIfLessThan(values[i], argument.Min, argument.Name);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(values[i], argument.Max, argument.Name);
        }

        try
        {
            using KingestDevice device = KingestDevice.Open(_devicePath);
            if (ReferenceEquals(definition, SetRate))
            {
                device.SetRate((uint)values[0]);
            }
            else if (ReferenceEquals(definition, SetThreshold))
            {
                device.SetThreshold((uint)values[0], (int)values[1]);
            }
            else
            {
                device.ResetStats();
            }

            return new IoctlOutcome(0, 0, null);
        }
        catch (ErrnoException e)
        {
            return new IoctlOutcome(-1, e.Errno, $"{definition.Request}: {e.Message}");
        }
    }
}
