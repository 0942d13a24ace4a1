using System.CommandLine;
using System.Globalization;
using Ingest.Commands;

namespace Ingest.Cli;

internal static class SendCommand
{
    /// <summary>Exit code when no result arrived in time (distinct from a refused command, 1).</summary>
    public const int TimedOut = 3;

    public static Command Create()
    {
        var bootstrap = new Option<string?>("--bootstrap", "-b") { Description = "Kafka bootstrap servers (default: INGEST_KAFKA__BOOTSTRAP)." };
        var host = new Option<string>("--host") { Description = "Target host id (the daemon's --host-id).", Required = true };
        var key = new Option<FileInfo>("--key", "-k") { Description = "Private key file from `ingest keygen` (must be mode 0600).", Required = true };
        var hostPub = new Option<string>("--host-pub") { Description = "The host's result-signing public key: a file, or a directory of HOST.pub files (from `ingest keygen --host HOST`). Only results that verify with it count.", Required = true };
        var sysctl = new Option<string?>("--sysctl") { Description = "KEY=VALUE: write a sysctl, e.g. net.ipv4.tcp_keepalive_time=600." };
        var ioctl = new Option<string[]>("--ioctl") { Description = "NAME [ARG=INT ...]: run an ioctl on /dev/kingest, e.g. set_rate hz=100.", AllowMultipleArgumentsPerToken = true, Arity = ArgumentArity.OneOrMore };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for the result.", DefaultValueFactory = _ => 30 };
        var ttl = new Option<double>("--ttl") { Description = "Seconds the command stays valid (expires_at - issued_at).", DefaultValueFactory = _ => 60 };
        var id = new Option<string?>("--id") { Description = "Command id (default: random)." };
        var command = new Command("send", "Sign a command, publish it to kernel.commands for one host, wait for its result signed by that host and print it. Exit 0 only on a verified applied; 1 with the status and error otherwise; 3 when no verified result arrived in time (unverifiable results are reported on stderr and waited past).")
        {
            bootstrap, host, key, hostPub, sysctl, ioctl, timeout, ttl, id,
        };
        command.SetAction(async (parse, ct) =>
        {
            var servers = parse.GetValue(bootstrap) ?? Environment.GetEnvironmentVariable("INGEST_KAFKA__BOOTSTRAP");
            if (string.IsNullOrWhiteSpace(servers))
            {
                return await Usage("--bootstrap is required");
            }

            var target = parse.GetValue(host)!;
            var sysctlText = parse.GetValue(sysctl);
            var ioctlWords = parse.GetValue(ioctl) ?? [];
            if ((sysctlText is null) == (ioctlWords.Length == 0))
            {
                return await Usage("give exactly one of --sysctl KEY=VALUE or --ioctl NAME [ARG=INT ...]");
            }

            var commandId = parse.GetValue(id) ?? CommandRequest.NewId();
            if (!CommandRequest.IsValidId(commandId))
            {
                return await Usage($"--id must be 1..{CommandRequest.MaxIdLength} characters of [A-Za-z0-9._:-]");
            }

            var lifetime = TimeSpan.FromSeconds(parse.GetValue(ttl));
            if (lifetime <= TimeSpan.Zero)
            {
                return await Usage("--ttl must be positive");
            }

            CommandRequest request;
            if (sysctlText is not null)
            {
                var eq = sysctlText.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    return await Usage($"--sysctl expects KEY=VALUE (got '{sysctlText}')");
                }

                if (!CommandPolicy.IsPlainValue(sysctlText[(eq + 1)..], out var valueError))
                {
                    return await Usage($"--sysctl {sysctlText[..eq]}: {valueError}");
                }

                request = CommandRequest.Sysctl(commandId, target, DateTimeOffset.UtcNow, lifetime, sysctlText[..eq], sysctlText[(eq + 1)..]);
            }
            else
            {
                var arguments = new List<KeyValuePair<string, long>>();
                foreach (var word in ioctlWords.AsSpan(1))
                {
                    var eq = word.IndexOf('=', StringComparison.Ordinal);
                    if (eq <= 0 || !long.TryParse(word.AsSpan(eq + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
                    {
                        return await Usage($"--ioctl arguments are NAME=INTEGER (got '{word}')");
                    }

                    arguments.Add(new(word[..eq], number));
                }

                request = CommandRequest.Ioctl(commandId, target, DateTimeOffset.UtcNow, lifetime, ioctlWords[0], arguments);
            }

            try
            {
                using var signer = CommandSigner.Load(parse.GetValue(key)!.FullName);
                using var hostKeys = HostKeys.Open(parse.GetValue(hostPub)!);
                _ = hostKeys.For(target); // a missing or loose host key is a usage error, before anything is sent
                using var sender = new CommandSender(servers, signer, hostKeys)
                {
                    Unverifiable = note => Console.Error.WriteLine($"ingest send: {note}"),
                };
                var result = await sender.SendAsync(request, TimeSpan.FromSeconds(parse.GetValue(timeout)), ct);
                if (result is null)
                {
                    var seen = sender.UnverifiableCount > 0 ? $" ({sender.UnverifiableCount} unverifiable result(s) ignored)" : "";
                    await Console.Error.WriteLineAsync($"ingest send: no verified result for command {commandId} from host {target} within {parse.GetValue(timeout)} s{seen} (is the daemon running with Commands:Enabled and this host key?)");
                    return TimedOut;
                }

                Console.WriteLine(result.ToString());
                return result.Status == CommandStatus.Applied ? 0 : 1;
            }
            catch (CommandKeyException e)
            {
                await Console.Error.WriteLineAsync($"ingest send: {e.Message}");
                return 2;
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or Confluent.Kafka.KafkaException)
            {
                await Console.Error.WriteLineAsync($"ingest send: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static async Task<int> Usage(string message)
    {
        await Console.Error.WriteLineAsync($"ingest send: {message}");
        return 2;
    }
}
