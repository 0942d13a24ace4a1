using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Ingest.Transports.Kingest;

/// <summary>struct kingest_sensor_reading: payload of <see cref="KingestEventType.Sensor"/>.</summary>
[StructLayout(LayoutKind.Sequential, Size = Size)]
public struct KingestSensorReading
{
    public const int Size = 16;

    public uint SensorId;
    public int MilliCelsius;
    public int ThresholdMc;
    public uint Flags;
}

/// <summary>
/// struct kingest_thermal_image: payload header of <see cref="KingestEventType.Image"/>, followed by
/// <see cref="PixelSize"/> bytes where pixels[i] == (byte)(frame + i).
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = Size)]
public struct KingestThermalImage
{
    public const int Size = 16;

    public uint SensorId;
    public uint Frame;
    public uint PixelSize;
    public uint Reserved;
}

/// <summary>struct kingest_netdev_event: payload of <see cref="KingestEventType.Netdev"/>.</summary>
[StructLayout(LayoutKind.Sequential, Size = Size)]
public struct KingestNetdevEvent
{
    public const int Size = 32;
    public const int NameSize = 16;

    public uint IfIndex;
    public uint Event;
    public uint Flags;
    public uint Mtu;
    public InterfaceName Name;

    /// <summary>char name[IFNAMSIZ], NUL-terminated.</summary>
    [InlineArray(NameSize)]
    public struct InterfaceName
    {
        private byte _element;
    }
}
