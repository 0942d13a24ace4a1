using System.Diagnostics;
using Ingest.Commands;

namespace Ingest.Tests.Commands;

/// <summary>
/// The wire format checked by independent implementations: Debian's python3-msgpack decodes the
/// envelope and body, and python3-cryptography (OpenSSL underneath, not .NET) verifies the signature
/// with the .pub file, then signs a command that the .NET verifier must accept; and it verifies a
/// host-signed result as an independent sender would.
/// </summary>
public sealed class CommandCodecInteropTests : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-codec-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Python_decodes_and_verifies_what_dotnet_signs_and_the_reverse()
    {
        SkipUnlessPython();
        string kid = CommandKeys.Generate(Path.Combine(_dir, "k.key"), Path.Combine(_dir, "k.pub"));
        using var signer = CommandSigner.Load(Path.Combine(_dir, "k.key"));
        var request = CommandRequest.Sysctl("id-1", "sensor-1", DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_123), TimeSpan.FromSeconds(90), "net.ipv4.tcp_keepalive_time", "600");
        File.WriteAllBytes(Path.Combine(_dir, "cmd.bin"), signer.Sign(request));

        string output = RunPython("""
            import msgpack, sys
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec, utils
            d = sys.argv[1]
            env = msgpack.unpackb(open(d + '/cmd.bin', 'rb').read(), raw=False)
            assert list(env.keys()) == ['v', 'kid', 'body', 'sig'], env.keys()
            body = msgpack.unpackb(env['body'], raw=False)
            assert list(body.keys()) == ['v', 'id', 'host', 'issued_at', 'expires_at', 'op', 'args'], body.keys()
            pub = serialization.load_pem_public_key(open(d + '/k.pub', 'rb').read())
            r = int.from_bytes(env['sig'][:32], 'big'); s = int.from_bytes(env['sig'][32:], 'big')
            pub.verify(utils.encode_dss_signature(r, s), env['body'], ec.ECDSA(hashes.SHA256()))
            print(env['v'], env['kid'], body['id'], body['host'], body['issued_at'], body['expires_at'], body['op'], body['args']['key'], body['args']['value'])
            # Now sign a command in Python with the private key; .NET must accept it.
            priv = serialization.load_pem_private_key(open(d + '/k.key', 'rb').read(), password=None)
            body2 = msgpack.packb({'v': 1, 'id': 'py-1', 'host': 'sensor-1', 'issued_at': 1, 'expires_at': 2, 'op': 'ioctl', 'args': {'name': 'set_rate', 'hz': 100}})
            r, s = utils.decode_dss_signature(priv.sign(body2, ec.ECDSA(hashes.SHA256())))
            sig = r.to_bytes(32, 'big') + s.to_bytes(32, 'big')
            open(d + '/py.bin', 'wb').write(msgpack.packb({'v': 1, 'kid': env['kid'], 'body': body2, 'sig': sig}))
            """);

        Assert.Equal($"1 {kid} id-1 sensor-1 1800000000123 1800000090123 sysctl.write net.ipv4.tcp_keepalive_time 600", output.Trim());

        using var trusted = TrustedKeys.Load([Path.Combine(_dir, "k.pub")]);
        Assert.True(CommandCodec.TryDecodeEnvelope(File.ReadAllBytes(Path.Combine(_dir, "py.bin")), out CommandEnvelope envelope, out string? error), error);
        Assert.True(trusted.Verify(envelope.KeyId, envelope.Body, envelope.Signature));
        Assert.True(CommandCodec.TryDecodeBody(envelope.Body, out CommandRequest? parsed, out error), error);
        Assert.Equal(("py-1", "sensor-1", 1L, 2L, CommandOps.Ioctl), (parsed!.Id, parsed.Host, parsed.IssuedAtMs, parsed.ExpiresAtMs, parsed.Op));
        Assert.Equal(100, parsed.Args["hz"].AsInt64());
    }

    [Fact]
    public void Python_verifies_and_decodes_a_host_signed_result()
    {
        SkipUnlessPython();
        string kid = CommandKeys.Generate(Path.Combine(_dir, "sensor-1.key"), Path.Combine(_dir, "sensor-1.pub"));
        using var host = CommandSigner.Load(Path.Combine(_dir, "sensor-1.key"));
        var result = new CommandResult("id-9", "sensor-1", CommandStatus.Failed, "write: Permission denied", "7200", null, 1_800_000_000_000, CommandOps.SysctlWrite, 13);
        File.WriteAllBytes(Path.Combine(_dir, "result.bin"), host.Sign(result));

        string output = RunPython("""
            import msgpack, sys
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec, utils
            env = msgpack.unpackb(open(sys.argv[1] + '/result.bin', 'rb').read(), raw=False)
            pub = serialization.load_pem_public_key(open(sys.argv[1] + '/sensor-1.pub', 'rb').read())
            sig = utils.encode_dss_signature(int.from_bytes(env['sig'][:32], 'big'), int.from_bytes(env['sig'][32:], 'big'))
            pub.verify(sig, env['body'], ec.ECDSA(hashes.SHA256()))
            print(env['kid'])
            print(sorted(msgpack.unpackb(env['body'], raw=False).items()))
            """);

        string[] lines = output.Trim().Split('\n');
        Assert.Equal(kid, lines[0]);
        Assert.Equal(
            "[('after', None), ('at', 1800000000000), ('before', '7200'), ('claimed_id', None), ('errno', 13), ('error', 'write: Permission denied'), ('host', 'sensor-1'), ('id', 'id-9'), ('op', 'sysctl.write'), ('status', 'failed'), ('v', 1)]",
            lines[1]);
        Assert.Equal(result, CommandResult.TryDecode(result.Encode()));
    }

    private static void SkipUnlessPython()
    {
        if (!File.Exists(Python))
        {
            Assert.Skip($"{Python} not installed (apt-get install python3-msgpack python3-cryptography)");
        }
    }

    private string RunPython(string script)
    {
        string path = Path.Combine(_dir, "check.py");
        File.WriteAllText(path, script);
        var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(path);
        info.ArgumentList.Add(_dir);
        using var process = Process.Start(info)!;
        string stdout = process.StandardOutput.ReadToEnd();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (stderr.Contains("No module named", StringComparison.Ordinal))
        {
            Assert.Skip($"python module missing: {stderr.Trim()}");
        }

        Assert.True(process.ExitCode == 0, stderr);
        return stdout;
    }
}
