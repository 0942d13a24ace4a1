using System.Security.Cryptography;

namespace Ingest.Commands;

/// <summary>
/// The public keys a host accepts commands from, by key id. Several keys may be trusted at once
/// so operators can rotate: add the new key, move senders over, remove the old one.
/// </summary>
public sealed class TrustedKeys : IDisposable
{
    private readonly Dictionary<string, ECDsa> _keys = new(StringComparer.Ordinal);

    public int Count => _keys.Count;

    public IEnumerable<string> KeyIds => _keys.Keys;

    /// <summary>Loads every file (refused when writable by group or others).</summary>
    public static TrustedKeys Load(IEnumerable<string> publicKeyPaths)
    {
        ArgumentNullException.ThrowIfNull(publicKeyPaths);
        var keys = new TrustedKeys();
        try
        {
            foreach (string path in publicKeyPaths)
            {
                keys.Add(CommandKeys.LoadPublic(path));
            }
        }
        catch
        {
            keys.Dispose();
            throw;
        }

        return keys;
    }

    /// <summary>Trusts <paramref name="key"/> (takes ownership) and returns its id.</summary>
    public string Add(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        string kid = CommandKeys.KeyId(key);
        if (!_keys.TryAdd(kid, key))
        {
            key.Dispose();
        }

        return kid;
    }

    public bool Contains(string kid) => _keys.ContainsKey(kid);

    /// <summary>True when <paramref name="signature"/> is <paramref name="kid"/>'s signature of exactly <paramref name="body"/>.</summary>
    public bool Verify(string kid, ReadOnlySpan<byte> body, ReadOnlySpan<byte> signature) =>
        signature.Length == CommandCodec.SignatureLength
        && _keys.TryGetValue(kid, out ECDsa? key)
        && key.VerifyData(body, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    public void Dispose()
    {
        foreach (ECDsa key in _keys.Values)
        {
            key.Dispose();
        }

        _keys.Clear();
    }
}
