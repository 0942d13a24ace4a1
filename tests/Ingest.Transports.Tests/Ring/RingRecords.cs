using System.Runtime.InteropServices;
using System.Text;
using Ingest.Transports.Kingest;

namespace Ingest.Transports.Tests.Ring;

/// <summary>Payloads shaped like the module's, built from a record number so a test can check them back.</summary>
internal static class RingRecords
{
    public static (KingestEventType Type, byte[] Payload) For(int i)
    {
        switch (i % 4)
        {
            case 0:
                var reading = new KingestSensorReading { SensorId = (uint)(i % 64), MilliCelsius = -4000 + i, ThresholdMc = 5000, Flags = i % 3 == 0 ? KingestAbi.SensorAlarm : 0 };
                return (KingestEventType.Sensor, Bytes(reading));
            case 1:
                int size = (i * 37) % 3000;
                var payload = new byte[KingestThermalImage.Size + size];
                MemoryMarshal.Write(payload, new KingestThermalImage { SensorId = 0, Frame = (uint)i, PixelSize = (uint)size });
                for (int p = 0; p < size; p++)
                {
                    payload[KingestThermalImage.Size + p] = (byte)(i + p);
                }

                return (KingestEventType.Image, payload);
            case 2:
                var netdev = new KingestNetdevEvent { IfIndex = (uint)i, Event = (uint)(1 + (i % 5)), Flags = 0x1003, Mtu = 1500 };
                var bytes = Bytes(netdev);
                Encoding.ASCII.GetBytes($"veth{i % 1000}").CopyTo(bytes, 16);
                return (KingestEventType.Netdev, bytes);
            default:
                var inject = new byte[i % 97];
                for (int p = 0; p < inject.Length; p++)
                {
                    inject[p] = (byte)(p ^ i);
                }

                return (KingestEventType.Inject, inject);
        }
    }

    public static ulong TimestampFor(int i) => 1_700_000_000_000_000_000UL + (ulong)i;

    public static byte[] Bytes<T>(T value)
        where T : unmanaged
    {
        var bytes = new byte[Marshal.SizeOf<T>()];
        MemoryMarshal.Write(bytes, value);
        return bytes;
    }
}
