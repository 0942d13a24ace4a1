namespace Ingest.Transports.Kingest;

/// <summary>
/// The 32-bit si_int of a kingest queued signal (KINGEST_SIG_* macros): type in bits 31..24,
/// the signal channel's sequence number low 8 bits in 23..16, a type-specific detail in 15..0.
/// </summary>
public readonly struct KingestSignalPayload(uint value)
{
    public uint Value { get; } = value;

    public byte Type => (byte)(Value >> 24);

    public byte SequenceLow => (byte)(Value >> 16);

    public ushort Detail => (ushort)Value;

    public bool SensorAlarm => ((Value >> 15) & 0x1) != 0;

    public byte SensorId => (byte)((Value >> 8) & 0x7f);

    /// <summary>Whole degrees Celsius, clamped by the module to a signed byte.</summary>
    public sbyte SensorDegreesCelsius => (sbyte)(byte)Value;

    public byte NetdevEvent => (byte)((Value >> 12) & 0xf);

    public ushort NetdevIfIndexLow => (ushort)(Value & 0xfff);

    /// <summary>IMAGE: the frame number's low 16 bits.</summary>
    public ushort ImageFrameLow => Detail;
}
