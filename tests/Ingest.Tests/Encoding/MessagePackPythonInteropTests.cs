using System.Diagnostics;
using Ingest.Commands;
using Ingest.Encoding.MessagePack;

namespace Ingest.Tests.Encoding;

/// <summary>
/// Cross-checks against an independent implementation: Debian's python3-msgpack, run as a process
/// (it is importable only from /usr/bin/python3). Both sides print <see cref="CanonicalJson"/>:
/// Python reads what the project writes (MessagePack-CSharp's writer; ChunkEventWriterTests covers
/// the hot path), and the library reader reads what Python writes.
/// </summary>
public class MessagePackPythonInteropTests
{
    private const string Python = "/usr/bin/python3";

    private const string Oracle = """
        import json, random, struct, sys
        try:
            import msgpack
        except ImportError:
            sys.exit(3)

        class Pairs(list):
            pass

        class Ext(tuple):
            # msgpack.ExtType refuses negative (reserved) codes, which our writer may legitimately use.
            pass

        def canon(o):
            if o is None or o is True or o is False:
                return o
            if isinstance(o, int):
                return {"i": str(o)}
            if isinstance(o, float):
                return {"f": struct.pack(">d", o).hex()}
            if isinstance(o, str):
                return {"s": o.encode("utf-8").hex()}
            if isinstance(o, bytes):
                return {"b": o.hex()}
            if isinstance(o, msgpack.Timestamp):
                return {"t": [o.seconds, o.nanoseconds]}
            if isinstance(o, msgpack.ExtType):
                return {"e": [o.code, o.data.hex()]}
            if isinstance(o, Ext):
                return {"e": [o[0], o[1].hex()]}
            if isinstance(o, Pairs):
                return {"m": [[canon(k), canon(v)] for k, v in o]}
            if isinstance(o, dict):
                return {"m": [[canon(k), canon(v)] for k, v in o.items()]}
            if isinstance(o, list):
                return [canon(x) for x in o]
            raise TypeError(type(o))

        def dump(o):
            return json.dumps(canon(o), separators=(",", ":"))

        def generate(rnd, depth):
            kind = rnd.randrange(12 if depth < 4 else 10)
            if kind == 0:
                return rnd.choice([None, True, False])
            if kind == 1:
                return rnd.choice([0, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64 - 1,
                                   -1, -32, -33, -128, -129, -32768, -32769, -2**31, -2**31 - 1, -2**63])
            if kind == 2:
                return rnd.randrange(-2**63, 2**64) >> rnd.randrange(64)
            if kind == 3:
                return rnd.choice([0.5, -0.0, float("inf"), float("nan"), 1e300, rnd.uniform(-1e9, 1e9)])
            if kind in (4, 5):
                n = rnd.choice([0, 3, 31, 32, 255, 256] + ([65536] if depth == 0 else []))
                return "".join(chr(rnd.choice([rnd.randrange(0x20, 0x7f), rnd.randrange(0x400, 0x500), rnd.randrange(0x1f300, 0x1f600)])) for _ in range(n))
            if kind == 6:
                return rnd.randbytes(rnd.choice([0, 1, 255, 256, 65536]))
            # Collections shrink with depth so a document stays small.
            sizes = [0, 1, 15, 16, 17] if depth < 2 else [0, 1, 2]
            if kind == 7:
                return msgpack.ExtType(rnd.choice([0, 1, 2, 126, 127]), rnd.randbytes(rnd.choice([0, 1, 2, 3, 4, 8, 16, 17, 256])))
            if kind in (8, 9):
                return msgpack.Timestamp(rnd.choice([0, 2**32 - 1, 2**34 - 1, 2**34, -1, -62135596800, rnd.randrange(-2**40, 2**40)]),
                                         rnd.choice([0, 1, 999999999, rnd.randrange(10**9)]))
            if kind == 10:
                return [generate(rnd, depth + 1) for _ in range(rnd.choice(sizes))]
            return {("k%d" % i if i % 2 else i): generate(rnd, depth + 1) for i in range(rnd.choice(sizes))}

        mode = sys.argv[1]
        if mode == "decode":
            data = sys.stdin.buffer.read()
            value = msgpack.unpackb(data, raw=False, strict_map_key=False, object_pairs_hook=Pairs, use_list=True,
                                    ext_hook=lambda code, data: Ext((code, data)))
            sys.stdout.write(dump(value))
        else:
            rnd = random.Random(int(sys.argv[2]))
            value = [generate(rnd, 0) for _ in range(40)]
            sys.stdout.write(msgpack.packb(value, use_bin_type=True).hex() + "\n" + dump(value))
        """;

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void PythonDecodesWhatTheWriterWrites(int seed)
    {
        // One process per document: an array of many random values.
        (byte[] msgpack, string expected, _) = MessagePackRoundTripTests.Generate(new Random(seed), topLevelCount: 60);
        Assert.Equal(expected, RunOracle(["decode"], msgpack));
    }

    [Fact]
    public void PythonDecodesCommandsAndResultsAsTheLibraryReadsThem()
    {
        var issued = new DateTimeOffset(2026, 11, 22, 3, 4, 5, TimeSpan.Zero);
        byte[] body = CommandCodec.EncodeBody(CommandRequest.Ioctl("c-1", "host-a", issued, TimeSpan.FromMinutes(5), "ring.resize", [new("bytes", 1L << 24), new("neg", -129)]));
        byte[] envelope = CommandCodec.EncodeEnvelope("ops-2026", body, new byte[CommandCodec.SignatureLength]);
        byte[] result = new CommandResult("c-1", "host-a", CommandStatus.Failed, "busy", null, "x", issued.ToUnixTimeMilliseconds(), "ioctl", 16).Encode();
        foreach (byte[] document in new[] { body, envelope, result })
        {
            Assert.Equal(CanonicalJson.FromMessagePack(document), RunOracle(["decode"], document));
        }

        Assert.StartsWith("""{"m":[[{"s":"76"},{"i":"1"}],[{"s":"6964"},{"s":"632d31"}]""", RunOracle(["decode"], body), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    [InlineData(23)]
    public void ReaderReadsWhatPythonWrites(int seed)
    {
        string[] output = RunOracle(["encode", seed.ToString(System.Globalization.CultureInfo.InvariantCulture)], []).Split('\n');
        byte[] msgpack = Convert.FromHexString(output[0]);
        string expected = output[1];

        Assert.Equal(expected, CanonicalJson.FromMessagePack(msgpack));

        // And what the read tree writes back (MessagePack-CSharp's writer), Python reads as the same value.
        Assert.Equal(expected, RunOracle(["decode"], MessagePackValue.Parse(msgpack).ToMessagePack()));
        Assert.NotEmpty(MessagePackJson.ToJson(msgpack));
    }

    internal static string RunOracle(string[] arguments, byte[] input)
    {
        if (!File.Exists(Python))
        {
            Assert.Skip($"{Python} is absent: the python3-msgpack cross-check needs Debian's python3 and python3-msgpack.");
        }

        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Oracle);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        Task<string> stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        process.StandardInput.BaseStream.Write(input);
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill();
            Assert.Fail("python3 did not finish in 2 minutes");
        }

        if (process.ExitCode == 3)
        {
            Assert.Skip($"python3-msgpack is not importable from {Python} (apt-get install python3-msgpack).");
        }

        Assert.True(process.ExitCode == 0, $"python3 exited with {process.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }
}
