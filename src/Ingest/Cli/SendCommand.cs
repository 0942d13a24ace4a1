using System.CommandLine;
using System.Globalization;
using Ingest.Commands;
using Ingest.Fleet;

namespace Ingest.Cli;

internal static class SendCommand
{
    /// <summary>Exit code when no result arrived in time (distinct from a refused command, 1).</summary>
    public const int TimedOut = 3;

    public static Command Create()
    {
        var bootstrap = new Option<string?>("--bootstrap", "-b") { Description = "Kafka bootstrap servers (default: INGEST_KAFKA__BOOTSTRAP)." };
        var host = new Option<string[]>("--host") { Description = "Target host id (the daemon's --host-id); repeat for several hosts." };
        var hostsFile = new Option<FileInfo?>("--hosts-file") { Description = "Target the hosts listed in FILE, one per line (# comments)." };
        var hostsSeen = new Option<string?>("--hosts-seen") { Description = "Target the hosts matching GLOB with a heartbeat on kernel.events in the last minute." };
        var dryRun = new Option<bool>("--dry-run") { Description = "List the target hosts and exit without sending." };
        var parallel = new Option<int>("--parallel") { Description = "Hosts whose command is sent and unanswered at most at once.", DefaultValueFactory = _ => 64 };
        var key = new Option<FileInfo>("--key", "-k") { Description = "Private key file from `ingest keygen` (must be mode 0600).", Required = true };
        var hostPub = new Option<string>("--host-pub") { Description = "The host's result-signing public key: a file, or a directory of HOST.pub files (from `ingest keygen --host HOST`). Only results that verify with it count. Required unless --dry-run." };
        var sysctl = new Option<string?>("--sysctl") { Description = "KEY=VALUE: write a sysctl, e.g. net.ipv4.tcp_keepalive_time=600." };
        var ioctl = new Option<string[]>("--ioctl") { Description = "NAME [ARG=INT ...]: run an ioctl on /dev/kingest, e.g. set_rate hz=100.", AllowMultipleArgumentsPerToken = true, Arity = ArgumentArity.OneOrMore };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for the result.", DefaultValueFactory = _ => 30 };
        var ttl = new Option<double>("--ttl") { Description = "Seconds the command stays valid (expires_at - issued_at).", DefaultValueFactory = _ => 60 };
        var id = new Option<string?>("--id") { Description = "Command id (default: random)." };
        var command = new Command("send", "Sign a command for each target host, publish it to kernel.commands, wait for each host's result signed by that host and print it (one line per host, then a summary for several). Exit 0 only when every host applied (verified); 1 if any refused or failed; 3 if any gave no verified result in time (naming them). Unverifiable results are reported on stderr and waited past.")
        {
            bootstrap, host, hostsFile, hostsSeen, dryRun, parallel, key, hostPub, sysctl, ioctl, timeout, ttl, id,
        };
        command.SetAction(async (parse, ct) =>
        {
            var servers = parse.GetValue(bootstrap) ?? Environment.GetEnvironmentVariable("INGEST_KAFKA__BOOTSTRAP");
            if (string.IsNullOrWhiteSpace(servers))
            {
                return await Usage("--bootstrap is required");
            }

            var named = parse.GetValue(host) ?? [];
            var file = parse.GetValue(hostsFile);
            var seenGlob = parse.GetValue(hostsSeen);
            if (named.Length == 0 && file is null && seenGlob is null)
            {
                return await Usage("give the targets: --host HOST (repeatable), --hosts-file FILE or --hosts-seen GLOB");
            }

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

            Func<string, CommandRequest> requestFor;
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

                requestFor = target => CommandRequest.Sysctl(commandId, target, DateTimeOffset.UtcNow, lifetime, sysctlText[..eq], sysctlText[(eq + 1)..]);
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

                requestFor = target => CommandRequest.Ioctl(commandId, target, DateTimeOffset.UtcNow, lifetime, ioctlWords[0], arguments);
            }

            List<string> targets;
            try
            {
                var all = new List<string>(named);
                if (file is not null)
                {
                    all.AddRange(FleetTargets.FromFile(file.FullName));
                }

                if (seenGlob is not null)
                {
                    all.AddRange(FleetTargets.Seen(servers, "kernel.events", seenGlob, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(30)));
                }

                targets = FleetTargets.Distinct(all);
            }
            catch (IOException e)
            {
                return await Usage($"--hosts-file: {e.Message}");
            }

            if (parse.GetValue(dryRun))
            {
                foreach (var target in targets)
                {
                    Console.WriteLine($"target {target}");
                }

                Console.WriteLine($"{targets.Count} target(s); nothing sent (--dry-run)");
                return 0;
            }

            if (parse.GetValue(hostPub) is not { } hostKeyPath)
            {
                return await Usage("--host-pub is required: results count only when they verify with the host's key");
            }

            if (targets.Count == 0)
            {
                await Console.Error.WriteLineAsync("ingest send: no target host (none listed, or none seen in the last minute)");
                return 2;
            }

            if (named.Length != 1 || file is not null || seenGlob is not null)
            {
                return await SendToFleetAsync(servers, parse.GetValue(key)!, hostKeyPath, targets, requestFor, TimeSpan.FromSeconds(parse.GetValue(timeout)), parse.GetValue(parallel), commandId, ct);
            }

            var request = requestFor(targets[0]);
            var single = targets[0];
            try
            {
                using var signer = CommandSigner.Load(parse.GetValue(key)!.FullName);
                using var hostKeys = HostKeys.Open(hostKeyPath);
                _ = hostKeys.For(single); // a missing or loose host key is a usage error, before anything is sent
                using var sender = new CommandSender(servers, signer, hostKeys)
                {
                    Unverifiable = note => Console.Error.WriteLine($"ingest send: {note}"),
                };
                var result = await sender.SendAsync(request, TimeSpan.FromSeconds(parse.GetValue(timeout)), ct);
                if (result is null)
                {
                    var seen = sender.UnverifiableCount > 0 ? $" ({sender.UnverifiableCount} unverifiable result(s) ignored)" : "";
                    await Console.Error.WriteLineAsync($"ingest send: no verified result for command {commandId} from host {single} within {parse.GetValue(timeout)} s{seen} (is the daemon running with Commands:Enabled and this host key?)");
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

    /// <summary>
    /// One command per host, with bounded concurrency: a line per host as it finishes, then a
    /// summary. Every way out says why on stderr; once sending began, every way out also prints
    /// the summary of what is known, naming the hosts without an outcome.
    /// </summary>
    private static async Task<int> SendToFleetAsync(string servers, FileInfo key, string hostKeyPath, IReadOnlyList<string> targets, Func<string, CommandRequest> requestFor, TimeSpan timeout, int parallel, string commandId, CancellationToken ct)
    {
        CommandSigner signer;
        HostKeys hostKeys;
        try
        {
            signer = CommandSigner.Load(key.FullName);
        }
        catch (CommandKeyException e)
        {
            await Console.Error.WriteLineAsync($"ingest send: {e.Message}");
            return 2;
        }

        try
        {
            hostKeys = HostKeys.Open(hostKeyPath);
            foreach (var target in targets)
            {
                _ = hostKeys.For(target); // every host's key present and safe before anything is sent
            }
        }
        catch (CommandKeyException e)
        {
            signer.Dispose();
            await Console.Error.WriteLineAsync($"ingest send: {e.Message}");
            return 2;
        }

        var finished = new System.Collections.Concurrent.ConcurrentDictionary<string, FleetOutcome>(StringComparer.Ordinal);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            using var sender = new FleetCommandSender(servers, signer, (host, value) => hostKeys.TryVerify(host, value, out var result, out var error) ? (result, null) : (null, error)) { Parallelism = parallel };
            sender.Unverifiable = note => Console.Error.WriteLine($"ingest send: {note}");
            sender.Notice = note => Console.Error.WriteLine($"ingest send: {note}");
            var outcomes = await sender.SendAsync(
                targets,
                requestFor,
                timeout,
                outcome =>
                {
                    finished[outcome.Host] = outcome;
                    Console.WriteLine(outcome.ToString());
                },
                ct);
            return Summarize(outcomes, targets, commandId, clock.Elapsed, aborted: null);
        }
        catch (Exception e)
        {
            // Not a normal end (the broker client failed, interrupted, a defect): say why, and
            // what is known. Hosts without an outcome may or may not have applied the command.
            var why = e is OperationCanceledException && ct.IsCancellationRequested ? "interrupted" : $"{e.GetType().Name}: {e.Message}";
            await Console.Error.WriteLineAsync($"ingest send: stopped before every host had an outcome: {why}");
            Summarize([.. finished.Values], targets, commandId, clock.Elapsed, aborted: why);
            return 1;
        }
        finally
        {
            hostKeys.Dispose();
            signer.Dispose();
        }
    }

    /// <summary>Prints the summary (and the hosts by outcome); returns the exit code for a complete set of outcomes.</summary>
    private static int Summarize(IReadOnlyCollection<FleetOutcome> outcomes, IReadOnlyList<string> targets, string commandId, TimeSpan elapsed, string? aborted)
    {
        var applied = outcomes.Count(o => o.Applied);
        var refused = outcomes.Where(o => !o.Applied && !o.TimedOut).Select(o => o.Host).ToList();
        var timedOut = outcomes.Where(o => o.TimedOut).Select(o => o.Host).ToList();
        var known = outcomes.Select(o => o.Host).ToHashSet(StringComparer.Ordinal);
        var unknown = targets.Where(t => !known.Contains(t)).ToList();
        var tail = unknown.Count > 0 ? $", {unknown.Count} without an outcome" : "";
        Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"summary: id={commandId} {applied} applied, {refused.Count} refused or failed, {timedOut.Count} timed out{tail}, of {targets.Count} host(s) in {elapsed.TotalSeconds:0.0} s{(aborted is null ? "" : $" (stopped: {aborted})")}"));
        if (refused.Count > 0)
        {
            Console.WriteLine($"refused or failed: {string.Join(' ', refused)}");
        }

        if (timedOut.Count > 0)
        {
            Console.WriteLine($"timed out: {string.Join(' ', timedOut)}");
        }

        if (unknown.Count > 0)
        {
            Console.WriteLine($"without an outcome: {string.Join(' ', unknown)}");
        }

        return refused.Count > 0 || unknown.Count > 0 ? 1 : timedOut.Count > 0 ? TimedOut : 0;
    }

    private static async Task<int> Usage(string message)
    {
        await Console.Error.WriteLineAsync($"ingest send: {message}");
        return 2;
    }
}
