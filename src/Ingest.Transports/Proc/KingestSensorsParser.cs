using System.Buffers.Text;
using Ingest.Transports.Events;
using Ingest.Transports.Kingest;

namespace Ingest.Transports.Proc;

/// <summary>
/// /proc/kingest/sensors: one line per sensor, <c>"&lt;id&gt; &lt;milli_celsius&gt; &lt;threshold_mc&gt; &lt;ts_ns&gt; &lt;alarm 0|1&gt;"</c>.
/// One event <c>proc.kingest.sensors</c>: <c>{"sensors": [{"sensor_id": u64, "milli_celsius": i64,
/// "threshold_mc": i64, "ts_ns": u64, "alarm": bool}, ...]}</c>; ts_ns 0 means never read yet. An
/// empty file (sensors off, or proc_enable 0) is an empty array.
/// </summary>
public sealed class KingestSensorsParser : IProcParser
{
    private static readonly EventName Type = new("proc.kingest.sensors");
    private static readonly EventName Sensors = new("sensors");
    private static readonly EventName TsKey = new("ts_ns");

    private readonly Reading[] _readings = new Reading[KingestAbi.MaxSensors];

    public string Name => "kingest_sensors";

    public EventName EventType => Type;

    public void Write(ReadOnlySpan<byte> content, long timestampNs, EventWriter writer)
    {
        int count = 0;
        var rest = content;
        while (ProcText.NextLine(ref rest, out var line))
        {
            if (ProcText.Trim(line).IsEmpty)
            {
                continue;
            }

            if (count == _readings.Length)
            {
                throw new ProcFormatException($"kingest sensors: more than {KingestAbi.MaxSensors} sensors");
            }

            ulong id = ProcText.ParseUInt64(ProcText.NextToken(ref line), "kingest sensors: id");
            long milliCelsius = ParseInt32(ProcText.NextToken(ref line), "kingest sensors: milli_celsius");
            long threshold = ParseInt32(ProcText.NextToken(ref line), "kingest sensors: threshold_mc");
            ulong ts = ProcText.ParseUInt64(ProcText.NextToken(ref line), "kingest sensors: ts_ns");
            var alarmToken = ProcText.NextToken(ref line);
            if (!ProcText.Trim(line).IsEmpty)
            {
                throw ProcText.Malformed("kingest sensors: trailing text", line);
            }

            if (id >= KingestAbi.MaxSensors)
            {
                throw ProcText.Malformed("kingest sensors: id out of range", "id"u8);
            }

            bool alarm = alarmToken.SequenceEqual("1"u8);
            if (!alarm && !alarmToken.SequenceEqual("0"u8))
            {
                throw ProcText.Malformed("kingest sensors: alarm", alarmToken);
            }

            _readings[count++] = new Reading(id, milliCelsius, threshold, ts, alarm);
        }

        writer.BeginEvent(Type, timestampNs, 1);
        writer.WriteKey(Sensors);
        writer.WriteArrayHeader(count);
        for (int i = 0; i < count; i++)
        {
            ref readonly var r = ref _readings[i];
            writer.WriteMapHeader(5);
            writer.Write(KingestRecordWriter.SensorIdKey, r.Id);
            writer.Write(KingestRecordWriter.MilliCelsiusKey, r.MilliCelsius);
            writer.Write(KingestRecordWriter.ThresholdKey, r.Threshold);
            writer.Write(TsKey, r.TimestampNs);
            writer.Write(KingestRecordWriter.AlarmKey, r.Alarm);
        }

        writer.EndEvent();
    }

    /// <summary>The module prints these with %d: a 32-bit signed decimal.</summary>
    private static long ParseInt32(ReadOnlySpan<byte> token, string what)
    {
        if (token.IsEmpty || !Utf8Parser.TryParse(token, out int value, out int consumed) || consumed != token.Length)
        {
            throw ProcText.Malformed(what, token);
        }

        return value;
    }

    private readonly record struct Reading(ulong Id, long MilliCelsius, long Threshold, ulong TimestampNs, bool Alarm);
}
