using System.Diagnostics;
using System.Globalization;
using Ingest.Transports.Signals;
using Ingest.Transports.Tests.Upcall;

namespace Ingest.Transports.Tests.Signals;

/// <summary>Compares the C# mirror of the signal ABI with kmodule/include/uapi/linux/kingest.h, compiled by a C compiler.</summary>
public class KingestSignalAbiTests
{
    private static readonly uint[] Samples = [0u, 0x012a85fdu, 0x01007f80u, 0x02ff1234u, 0x03073123u, 0x04aabbccu, 0xffffffffu];

    [Fact]
    public void Ioctl_numbers_and_payload_decoding_match_the_header()
    {
        var header = Path.Combine(UpcallHelperBinary.RepoRoot() ?? "", "kmodule/include/uapi/linux/kingest.h");
        if (!File.Exists(header))
        {
            Assert.Skip($"{header} is not in this tree (the kmodule branch provides it)");
        }

        var work = Directory.CreateTempSubdirectory("ingest-kingest-abi-").FullName;
        try
        {
            var program = Path.Combine(work, "abi.c");
            File.WriteAllText(program, $$"""
                #include <stdio.h>
                #include <linux/kingest.h>
                int main(void)
                {
                	static const unsigned int v[] = { {{string.Join(", ", Samples.Select(s => $"0x{s:x}u"))}} };
                	printf("%u %u %zu\n", (unsigned int)KINGEST_IOC_SUBSCRIBE_SIGNAL,
                	       (unsigned int)KINGEST_IOC_UNSUBSCRIBE_SIGNAL, sizeof(struct kingest_signal_sub));
                	for (unsigned int i = 0; i < sizeof(v) / sizeof(v[0]); i++)
                		printf("%u %u %u %u %u %d %u %u\n", KINGEST_SIG_TYPE(v[i]), KINGEST_SIG_SEQ(v[i]),
                		       KINGEST_SIG_DETAIL(v[i]), KINGEST_SIG_SENSOR_ALARM(v[i]), KINGEST_SIG_SENSOR_ID(v[i]),
                		       KINGEST_SIG_SENSOR_DEGC(v[i]), KINGEST_SIG_NETDEV_EVENT(v[i]), KINGEST_SIG_NETDEV_IFINDEX(v[i]));
                	return 0;
                }
                """);
            var binary = Path.Combine(work, "abi");
            Run("cc", ["-std=gnu11", "-Wall", "-Werror", "-I", Path.GetFullPath(Path.Combine(Path.GetDirectoryName(header)!, "..")), "-o", binary, program]);
            var lines = Run(binary, []).Split('\n', StringSplitOptions.RemoveEmptyEntries);

            Assert.Equal($"{KingestSignal.IocSubscribeSignal} {KingestSignal.IocUnsubscribeSignal} {System.Runtime.CompilerServices.Unsafe.SizeOf<KingestSignalSubscription>()}", lines[0]);
            for (var i = 0; i < Samples.Length; i++)
            {
                var v = Samples[i];
                var expected = string.Join(' ', new object[]
                {
                    KingestSignal.Type(v), KingestSignal.Sequence(v), KingestSignal.Detail(v), KingestSignal.SensorAlarm(v) ? 1 : 0,
                    KingestSignal.SensorId(v), KingestSignal.SensorDegreesC(v), KingestSignal.NetdevEvent(v), KingestSignal.NetdevIfIndex(v),
                }.Select(o => Convert.ToString(o, CultureInfo.InvariantCulture)));
                Assert.Equal(expected, lines[i + 1]);
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static string Run(string file, string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEnd();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} failed: {errors}");
        return output;
    }
}
