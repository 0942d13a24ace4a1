namespace Ingest.Commands;

/// <summary>
/// The operator's view of hosts' result-signing keys (<c>ingest send --host-pub</c>): one public
/// key file, or a directory of <c>HOST.pub</c> files made with <c>ingest keygen --host HOST</c>.
/// A result counts only when it verifies against the key of the host it claims to come from:
/// anyone who can write kernel.command-results (every sensor host can) can forge the rest.
/// </summary>
public sealed class HostKeys : IDisposable
{
    private readonly string _path;
    private readonly bool _isDirectory;
    private readonly Dictionary<string, TrustedKeys> _byHost = new(StringComparer.Ordinal);

    private HostKeys(string path, bool isDirectory)
    {
        _path = path;
        _isDirectory = isDirectory;
    }

    /// <summary>A file (the key of whichever host is addressed) or a directory of HOST.pub files.</summary>
    /// <exception cref="CommandKeyException">The path does not exist.</exception>
    public static HostKeys Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path))
        {
            return new HostKeys(path, isDirectory: true);
        }

        if (File.Exists(path))
        {
            return new HostKeys(path, isDirectory: false);
        }

        throw new CommandKeyException($"host public key '{path}' is neither a file nor a directory");
    }

    /// <summary>Loads (once) the key <paramref name="host"/>'s results must verify with.</summary>
    /// <exception cref="CommandKeyException">No such key file, or it is malformed or loosely permitted.</exception>
    public TrustedKeys For(string host)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        if (!_byHost.TryGetValue(host, out TrustedKeys? keys))
        {
            if (_isDirectory && (host.Contains('/', StringComparison.Ordinal) || host is "." or ".."))
            {
                throw new CommandKeyException($"host id '{host}' cannot name a key file");
            }

            string file = _isDirectory ? Path.Combine(_path, host + ".pub") : _path;
            keys = TrustedKeys.Load([file]);
            _byHost[host] = keys;
        }

        return keys;
    }

    /// <summary>
    /// Checks a kernel.command-results value: an envelope whose signature verifies with
    /// <paramref name="host"/>'s key and whose signed body names <paramref name="host"/>.
    /// </summary>
    public bool TryVerify(string host, ReadOnlySpan<byte> value, out CommandResult? result, out string? error)
    {
        result = null;
        TrustedKeys keys = For(host);
        if (!CommandCodec.TryDecodeEnvelope(value, out CommandEnvelope envelope, out error))
        {
            error = "not a signed result: " + error;
            return false;
        }

        if (!keys.Verify(envelope.KeyId, envelope.Body, envelope.Signature))
        {
            error = keys.Contains(envelope.KeyId)
                ? "bad signature"
                : $"signed by key {Printable(envelope.KeyId)}, not {host}'s key {string.Join(",", keys.KeyIds)}";
            return false;
        }

        result = CommandResult.TryDecode(envelope.Body);
        if (result is null)
        {
            error = "signed body is not a result";
            return false;
        }

        if (result.Host != host)
        {
            error = $"signed by {host}'s key but names host '{Printable(result.Host)}'";
            result = null;
            return false;
        }

        error = null;
        return true;
    }

    public void Dispose()
    {
        foreach (TrustedKeys keys in _byHost.Values)
        {
            keys.Dispose();
        }

        _byHost.Clear();
    }

    private static string Printable(string text) =>
        new([.. (text.Length > 32 ? text[..32] : text).Select(c => char.IsControl(c) ? '?' : c)]);
}
