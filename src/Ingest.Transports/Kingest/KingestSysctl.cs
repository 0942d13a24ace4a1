namespace Ingest.Transports.Kingest;

/// <summary>The module's sysctls: /proc/sys/kingest/&lt;name&gt;.</summary>
public static class KingestSysctl
{
    public const string Directory = "kingest";
    public const string RateHz = "rate_hz";
    public const string SensorCount = "sensor_count";
    public const string SensorsEnable = "sensors_enable";
    public const string ImageSize = "image_size";
    public const string NetdevEnable = "netdev_enable";
    public const string RingEnable = "ring_enable";
    public const string GenlEnable = "genl_enable";
    public const string SignalEnable = "signal_enable";
    public const string UpcallEnable = "upcall_enable";
    public const string UdpEnable = "udp_enable";
    public const string ProcEnable = "proc_enable";
    public const string UdpAddress = "udp_addr";
    public const string UdpPort = "udp_port";
    public const string UpcallHelper = "upcall_helper";
    public const string UpcallRate = "upcall_rate";

    /// <summary>The full path of a sysctl, e.g. /proc/sys/kingest/rate_hz.</summary>
    public static string PathOf(string name) => $"/proc/sys/{Directory}/{name}";
}
