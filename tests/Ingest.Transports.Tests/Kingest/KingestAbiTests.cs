using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using Ingest.Transports.Kingest;

namespace Ingest.Transports.Tests.Kingest;

/// <summary>
/// Compiles kingest_abi_dump.c with gcc against kmodule/include/uapi/linux/kingest.h and compares
/// every size, offset, constant and ioctl number it prints with the C# mirror, both ways: an entry
/// on either side without its counterpart fails too.
/// </summary>
public sealed class KingestAbiTests
{
    [Fact]
    public void Mirror_matches_the_uapi_header_compiled_by_gcc()
    {
        var fromHeader = DumpHeader();
        var fromMirror = Mirror();

        var missingInMirror = fromHeader.Keys.Except(fromMirror.Keys).Order(StringComparer.Ordinal).ToList();
        var missingInHeader = fromMirror.Keys.Except(fromHeader.Keys).Order(StringComparer.Ordinal).ToList();
        var different = fromHeader.Keys.Intersect(fromMirror.Keys)
            .Where(k => fromHeader[k] != fromMirror[k])
            .Select(k => $"{k}: header {fromHeader[k]}, C# {fromMirror[k]}")
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.Empty(missingInMirror);
        Assert.Empty(missingInHeader);
        Assert.Empty(different);
        Assert.True(fromHeader.Count > 200, $"only {fromHeader.Count} entries dumped");
    }

    [Fact]
    public void Ioctl_numbers_follow_the_asm_generic_encoding()
    {
        // _IOR(0xB7, 0, 32 bytes): read dir (2) << 30 | 32 << 16 | 0xB7 << 8 | 0
        Assert.Equal(0x8020B700u, KingestIoctl.GetInfo);
        Assert.Equal(0xB703u, KingestIoctl.UnsubscribeSignal);
        // _IOWR(0xB7, 9, 32 bytes): ABI 2's wait on the read position.
        Assert.Equal(0xC020B709u, KingestIoctl.WaitRead);
        Assert.Throws<ArgumentOutOfRangeException>(() => KingestIoctl.Ioc(1, 0xB7, 0, 1 << 14));
    }

    private static Dictionary<string, string> DumpHeader()
    {
        string root = RepoRoot.Find();
        string include = Path.Combine(root, "kmodule", "include", "uapi");
        string source = Path.Combine(AppContext.BaseDirectory, "Kingest", "kingest_abi_dump.c");
        string binary = Path.Combine(Path.GetTempPath(), $"kingest_abi_dump_{Environment.ProcessId}");
        try
        {
            Run("gcc", ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-I", include, "-o", binary, source]);
            string json = Run(binary, []);
            using var document = JsonDocument.Parse(json);
            return document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString(), StringComparer.Ordinal);
        }
        finally
        {
            File.Delete(binary);
        }
    }

    private static string Run(string file, string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(60_000), $"{file} did not finish");
        Assert.True(process.ExitCode == 0, $"{file} exited {process.ExitCode}: {stderr.Result}");
        return stdout;
    }

    private static Dictionary<string, string> Mirror()
    {
        var m = new Dictionary<string, string>(StringComparer.Ordinal);

        void Num(string key, long value) => m.Add(key, value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        void Str(string key, string value) => m.Add(key, value);
        void Struct<T>(string name, params (string C, string? Field)[] fields)
            where T : unmanaged
        {
            Num($"sizeof.{name}", Unsafe.SizeOf<T>());
            Assert.Equal(Unsafe.SizeOf<T>(), Marshal.SizeOf<T>());
            foreach (var (c, field) in fields)
            {
                // A null field is a C flexible array member: it starts at the end of the struct.
                Num($"offsetof.{name}.{c}", field is null ? Unsafe.SizeOf<T>() : (long)Marshal.OffsetOf<T>(field));
            }
        }

        Struct<KingestRecordHeader>("kingest_record", ("len", "Length"), ("type", "Type"), ("channel", "Channel"), ("flags", "Flags"), ("seq", "Seq"), ("ts_ns", "TimestampNs"), ("data", null));
        Struct<KingestRingMeta>("kingest_ring_meta", ("magic", "Magic"), ("abi_version", "AbiVersion"), ("page_size", "PageSize"), ("header_size", "HeaderSize"), ("data_size", "DataSize"), ("data_offset", "DataOffset"), ("producer_offset", "ProducerOffset"), ("consumer_offset", "ConsumerOffset"), ("record_align", "RecordAlign"), ("max_record", "MaxRecord"));
        Struct<KingestRingConsumer>("kingest_ring_consumer", ("consumer_pos", "ConsumerPos"));
        Struct<KingestRingProducer>("kingest_ring_producer", ("producer_pos", "ProducerPos"), ("dropped", "Dropped"), ("bad_consumer", "BadConsumer"));
        Struct<KingestSensorReading>("kingest_sensor_reading", ("sensor_id", "SensorId"), ("milli_celsius", "MilliCelsius"), ("threshold_mc", "ThresholdMc"), ("flags", "Flags"));
        Struct<KingestThermalImage>("kingest_thermal_image", ("sensor_id", "SensorId"), ("frame", "Frame"), ("size", "PixelSize"), ("reserved", "Reserved"), ("pixels", null));
        Struct<KingestNetdevEvent>("kingest_netdev_event", ("ifindex", "IfIndex"), ("event", "Event"), ("flags", "Flags"), ("mtu", "Mtu"), ("name", "Name"));
        Num("fieldsize.kingest_netdev_event.name", Unsafe.SizeOf<KingestNetdevEvent.InterfaceName>());
        Struct<KingestInfo>("kingest_info", ("abi_version", "AbiVersion"), ("page_size", "PageSize"), ("ring_data_size", "RingDataSize"), ("channel_count", "ChannelCount"), ("max_sensors", "MaxSensors"), ("max_payload", "MaxPayload"), ("enabled", "Enabled"));
        Struct<KingestWait>("kingest_wait", ("timeout_ms", "TimeoutMs"), ("reserved", "Reserved"), ("available", "Available"));
        Struct<KingestWaitRead>("kingest_wait_read", ("read_pos", "ReadPos"), ("timeout_ms", "TimeoutMs"), ("reserved", "Reserved"), ("available", "Available"), ("producer_pos", "ProducerPos"));
        Struct<KingestSignalSubscription>("kingest_signal_sub", ("signo", "Signo"), ("flags", "Flags"));
        Struct<KingestThreshold>("kingest_threshold", ("sensor_id", "SensorId"), ("threshold_mc", "ThresholdMc"));
        Struct<KingestChannelStats>("kingest_channel_stats", ("emitted", "Emitted"), ("dropped", "Dropped"), ("errors", "Errors"));
        Struct<KingestStats>("kingest_stats", ("channel_count", "ChannelCount"), ("enabled", "Enabled"), ("ch", "Channels"));
        Num("fieldsize.kingest_stats.ch", Unsafe.SizeOf<KingestStats.ChannelArray>());
        Struct<KingestInject>("kingest_inject", ("channels", "Channels"), ("type", "Type"), ("reserved", "Reserved"), ("len", "Length"), ("reserved2", "Reserved2"), ("data", "Data"));

        Num("const.KINGEST_ABI_VERSION", KingestAbi.AbiVersion);
        Num("const.KINGEST_CH_RING", (long)KingestChannel.Ring);
        Num("const.KINGEST_CH_GENL", (long)KingestChannel.Genl);
        Num("const.KINGEST_CH_SIGNAL", (long)KingestChannel.Signal);
        Num("const.KINGEST_CH_UPCALL", (long)KingestChannel.Upcall);
        Num("const.KINGEST_CH_UDP", (long)KingestChannel.Udp);
        Num("const.KINGEST_CH_PROC", (long)KingestChannel.Proc);
        Num("const.KINGEST_CH_COUNT", KingestChannels.Count);
        Num("const.KINGEST_CH_SLOTS", KingestChannels.Slots);
        Num("const.KINGEST_CHF_RING", (long)KingestChannelFlags.Ring);
        Num("const.KINGEST_CHF_GENL", (long)KingestChannelFlags.Genl);
        Num("const.KINGEST_CHF_SIGNAL", (long)KingestChannelFlags.Signal);
        Num("const.KINGEST_CHF_UPCALL", (long)KingestChannelFlags.Upcall);
        Num("const.KINGEST_CHF_UDP", (long)KingestChannelFlags.Udp);
        Num("const.KINGEST_CHF_PUSH", (long)KingestChannelFlags.Push);
        Num("const.KINGEST_EV_PAD", (long)KingestEventType.Pad);
        Num("const.KINGEST_EV_SENSOR", (long)KingestEventType.Sensor);
        Num("const.KINGEST_EV_IMAGE", (long)KingestEventType.Image);
        Num("const.KINGEST_EV_NETDEV", (long)KingestEventType.Netdev);
        Num("const.KINGEST_EV_INJECT", (long)KingestEventType.Inject);
        Num("const.KINGEST_MAX_PAYLOAD", KingestAbi.MaxPayload);
        Num("const.KINGEST_RECORD_HDR_SIZE", KingestRecordHeader.Size);
        Num("const.KINGEST_RECORD_ALIGN", KingestRecordHeader.Align);
        Num("const.KINGEST_RECORD_MAX", KingestRecordHeader.MaxRecord);
        Num("const.KINGEST_RECF_TRUNCATED", KingestAbi.RecordFlagTruncated);
        Num("const.KINGEST_MMAP_META_PGOFF", KingestRingLayout.MetaPageOffset);
        Num("const.KINGEST_MMAP_CONSUMER_PGOFF", KingestRingLayout.ConsumerPageOffset);
        Num("const.KINGEST_MMAP_PRODUCER_PGOFF", KingestRingLayout.ProducerPageOffset);
        Num("const.KINGEST_MMAP_DATA_PGOFF", KingestRingLayout.DataPageOffset);
        Num("const.KINGEST_RING_MAGIC", KingestRingLayout.Magic);
        Num("const.KINGEST_SENSOR_ALARM", KingestAbi.SensorAlarm);
        Num("const.KINGEST_MAX_SENSORS", KingestAbi.MaxSensors);
        Num("const.KINGEST_NETDEV_REGISTER", (long)KingestNetdevEventKind.Register);
        Num("const.KINGEST_NETDEV_UNREGISTER", (long)KingestNetdevEventKind.Unregister);
        Num("const.KINGEST_NETDEV_UP", (long)KingestNetdevEventKind.Up);
        Num("const.KINGEST_NETDEV_DOWN", (long)KingestNetdevEventKind.Down);
        Num("const.KINGEST_NETDEV_CHANGE", (long)KingestNetdevEventKind.Change);
        Num("const.KINGEST_IOC_MAGIC", KingestIoctl.Magic);
        Num("const.KINGEST_WAIT_MAX_MS", KingestAbi.WaitMaxMs);
        Num("const.KINGEST_MAX_SIGNAL_SUBS", KingestAbi.MaxSignalSubscriptions);
        Num("const.KINGEST_SIG_CODE", KingestAbi.SignalCode);
        Num("const.KINGEST_SIG_BAND", KingestAbi.SignalBand);
        Num("const.KINGEST_RATE_MIN_HZ", KingestAbi.RateMinHz);
        Num("const.KINGEST_RATE_MAX_HZ", KingestAbi.RateMaxHz);
        Num("const.KINGEST_THRESHOLD_MIN_MC", KingestAbi.ThresholdMinMc);
        Num("const.KINGEST_THRESHOLD_MAX_MC", KingestAbi.ThresholdMaxMc);
        Num("const.KINGEST_CMD_UNSPEC", KingestGenl.CmdUnspec);
        Num("const.KINGEST_CMD_EVENT", KingestGenl.CmdEvent);
        Num("const.KINGEST_CMD_GET_STATS", KingestGenl.CmdGetStats);
        Num("const.KINGEST_CMD_MAX", KingestGenl.CmdMax);
        Num("const.KINGEST_A_UNSPEC", KingestGenl.AttrUnspec);
        Num("const.KINGEST_A_TYPE", KingestGenl.AttrType);
        Num("const.KINGEST_A_SEQ", KingestGenl.AttrSeq);
        Num("const.KINGEST_A_TS_NS", KingestGenl.AttrTimestampNs);
        Num("const.KINGEST_A_PAYLOAD", KingestGenl.AttrPayload);
        Num("const.KINGEST_A_CHANNEL", KingestGenl.AttrChannel);
        Num("const.KINGEST_A_STATS", KingestGenl.AttrStats);
        Num("const.KINGEST_A_PAD", KingestGenl.AttrPad);
        Num("const.KINGEST_A_MAX", KingestGenl.AttrMax);
        Num("const.KINGEST_A_STAT_UNSPEC", KingestGenl.StatUnspec);
        Num("const.KINGEST_A_STAT_CHANNEL", KingestGenl.StatChannel);
        Num("const.KINGEST_A_STAT_EMITTED", KingestGenl.StatEmitted);
        Num("const.KINGEST_A_STAT_DROPPED", KingestGenl.StatDropped);
        Num("const.KINGEST_A_STAT_ERRORS", KingestGenl.StatErrors);
        Num("const.KINGEST_A_STAT_PAD", KingestGenl.StatPad);
        Num("const.KINGEST_A_STAT_MAX", KingestGenl.StatMax);
        Num("const.KINGEST_GENL_VERSION", KingestGenl.Version);
        Num("const.KINGEST_UDP_QUEUE_MAX", KingestAbi.UdpQueueMax);
        Num("const.KINGEST_UPCALL_QUEUE_MAX", KingestAbi.UpcallQueueMax);
        Num("const.KINGEST_UPCALL_MAX_HEX", KingestAbi.UpcallMaxHex);
        Num("const.KINGEST_UPCALL_HELPER_MAX", KingestAbi.UpcallHelperMax);

        // The header's own static sizes, against the C# structs' declared sizes.
        Num("const.KINGEST_SIZEOF_RECORD", KingestRecordHeader.Size);
        Num("const.KINGEST_SIZEOF_RING_META", KingestRingMeta.Size);
        Num("const.KINGEST_SIZEOF_RING_CONSUMER", KingestRingConsumer.Size);
        Num("const.KINGEST_SIZEOF_RING_PRODUCER", KingestRingProducer.Size);
        Num("const.KINGEST_SIZEOF_SENSOR_READING", KingestSensorReading.Size);
        Num("const.KINGEST_SIZEOF_THERMAL_IMAGE", KingestThermalImage.Size);
        Num("const.KINGEST_SIZEOF_NETDEV_EVENT", KingestNetdevEvent.Size);
        Num("const.KINGEST_SIZEOF_INFO", KingestInfo.Size);
        Num("const.KINGEST_SIZEOF_WAIT", KingestWait.Size);
        Num("const.KINGEST_SIZEOF_SIGNAL_SUB", KingestSignalSubscription.Size);
        Num("const.KINGEST_SIZEOF_THRESHOLD", KingestThreshold.Size);
        Num("const.KINGEST_SIZEOF_CHANNEL_STATS", KingestChannelStats.Size);
        Num("const.KINGEST_SIZEOF_STATS", KingestStats.Size);
        Num("const.KINGEST_SIZEOF_INJECT", KingestInject.Size);
        Num("const.KINGEST_SIZEOF_WAIT_READ", KingestWaitRead.Size);

        foreach (ulong length in (ulong[])[0, 1, 24, 25, 16408])
        {
            Num($"alignup.{length}", (long)KingestRecordHeader.AlignUp(length));
        }

        Num("const.KINGEST_IOC_GET_INFO", KingestIoctl.GetInfo);
        Num("const.KINGEST_IOC_WAIT", KingestIoctl.Wait);
        Num("const.KINGEST_IOC_SUBSCRIBE_SIGNAL", KingestIoctl.SubscribeSignal);
        Num("const.KINGEST_IOC_UNSUBSCRIBE_SIGNAL", KingestIoctl.UnsubscribeSignal);
        Num("const.KINGEST_IOC_SET_RATE", KingestIoctl.SetRate);
        Num("const.KINGEST_IOC_SET_THRESHOLD", KingestIoctl.SetThreshold);
        Num("const.KINGEST_IOC_RESET_STATS", KingestIoctl.ResetStats);
        Num("const.KINGEST_IOC_GET_STATS", KingestIoctl.GetStats);
        Num("const.KINGEST_IOC_INJECT", KingestIoctl.Inject);
        Num("const.KINGEST_IOC_WAIT_READ", KingestIoctl.WaitRead);

        Str("string.KINGEST_DEVICE_NAME", KingestAbi.DeviceName);
        Str("string.KINGEST_PROC_DIR", KingestAbi.ProcDirectory);
        Str("string.KINGEST_PROC_STATS", KingestAbi.ProcStats);
        Str("string.KINGEST_PROC_SENSORS", KingestAbi.ProcSensors);
        Str("string.KINGEST_GENL_NAME", KingestGenl.FamilyName);
        Str("string.KINGEST_GENL_MCGRP", KingestGenl.EventsGroup);
        Str("string.KINGEST_SYSCTL_DIR", KingestSysctl.Directory);
        Str("string.KINGEST_SYSCTL_RATE_HZ", KingestSysctl.RateHz);
        Str("string.KINGEST_SYSCTL_SENSOR_COUNT", KingestSysctl.SensorCount);
        Str("string.KINGEST_SYSCTL_SENSORS_ENABLE", KingestSysctl.SensorsEnable);
        Str("string.KINGEST_SYSCTL_IMAGE_SIZE", KingestSysctl.ImageSize);
        Str("string.KINGEST_SYSCTL_NETDEV_ENABLE", KingestSysctl.NetdevEnable);
        Str("string.KINGEST_SYSCTL_RING_ENABLE", KingestSysctl.RingEnable);
        Str("string.KINGEST_SYSCTL_GENL_ENABLE", KingestSysctl.GenlEnable);
        Str("string.KINGEST_SYSCTL_SIGNAL_ENABLE", KingestSysctl.SignalEnable);
        Str("string.KINGEST_SYSCTL_UPCALL_ENABLE", KingestSysctl.UpcallEnable);
        Str("string.KINGEST_SYSCTL_UDP_ENABLE", KingestSysctl.UdpEnable);
        Str("string.KINGEST_SYSCTL_PROC_ENABLE", KingestSysctl.ProcEnable);
        Str("string.KINGEST_SYSCTL_UDP_ADDR", KingestSysctl.UdpAddress);
        Str("string.KINGEST_SYSCTL_UDP_PORT", KingestSysctl.UdpPort);
        Str("string.KINGEST_SYSCTL_UPCALL_HELPER", KingestSysctl.UpcallHelper);
        Str("string.KINGEST_SYSCTL_UPCALL_RATE", KingestSysctl.UpcallRate);

        foreach (uint value in (uint[])[0x01a38ff3, 0x01057f80, 0x02ff1234, 0x03014abc, 0x04ffffff, 0xffffffff, 0])
        {
            var payload = new KingestSignalPayload(value);
            string prefix = $"sig.{value:x8}.";
            Num(prefix + "type", payload.Type);
            Num(prefix + "seq", payload.SequenceLow);
            Num(prefix + "detail", payload.Detail);
            Num(prefix + "sensor_alarm", payload.SensorAlarm ? 1 : 0);
            Num(prefix + "sensor_id", payload.SensorId);
            Num(prefix + "sensor_degc", payload.SensorDegreesCelsius);
            Num(prefix + "netdev_event", payload.NetdevEvent);
            Num(prefix + "netdev_ifindex", payload.NetdevIfIndexLow);
        }

        return m;
    }
}
