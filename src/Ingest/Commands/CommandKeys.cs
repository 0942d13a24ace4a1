using System.Security.Cryptography;

namespace Ingest.Commands;

/// <summary>
/// ECDSA P-256 key files: PKCS#8 PEM private keys (operators only) and SubjectPublicKeyInfo PEM
/// public keys (every host). A key id (kid) is the first 8 bytes of SHA-256 over the public
/// key's DER, in hex: derived, so a host's trust list cannot disagree with the key it names.
/// </summary>
public static class CommandKeys
{
    /// <summary>Group and other bits: a private key with any of them set is refused.</summary>
    private const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Anyone but the owner able to write a trusted public key could replace it.</summary>
    private const UnixFileMode GroupOrOtherWrite = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;

    /// <summary>Generates a P-256 key pair as <c>&lt;name&gt;.key</c> (0600) and <c>&lt;name&gt;.pub</c> (0644).</summary>
    /// <returns>The key id.</returns>
    public static string Generate(string privatePath, string publicPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(privatePath);
        ArgumentException.ThrowIfNullOrEmpty(publicPath);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        // CreateNew with the final mode: the private key is never readable by others, not even briefly.
        WriteNew(privatePath, key.ExportPkcs8PrivateKeyPem(), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        WriteNew(publicPath, key.ExportSubjectPublicKeyInfoPem(), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return KeyId(key);
    }

    /// <summary>Loads a private key; refuses a file readable or writable by group or others.</summary>
    public static ECDsa LoadPrivate(string path)
    {
        UnixFileMode mode = ModeOf(path, "private key");
        if ((mode & GroupOrOther) != 0)
        {
            throw new CommandKeyException(
                $"private key file '{path}' has mode {Octal(mode)}: it must be accessible by its owner only (chmod 600 '{path}')");
        }

        return Import(path, "private key", static (key, pem) => key.ImportFromPem(pem), requirePrivate: true);
    }

    /// <summary>Loads a trusted public key; refuses a file writable by group or others.</summary>
    public static ECDsa LoadPublic(string path)
    {
        UnixFileMode mode = ModeOf(path, "public key");
        if ((mode & GroupOrOtherWrite) != 0)
        {
            throw new CommandKeyException(
                $"public key file '{path}' has mode {Octal(mode)}: it must not be writable by group or others (chmod 644 '{path}')");
        }

        return Import(path, "public key", static (key, pem) => key.ImportFromPem(pem), requirePrivate: false);
    }

    /// <summary>Hex of the first 8 bytes of SHA-256(SubjectPublicKeyInfo DER).</summary>
    public static string KeyId(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(key.ExportSubjectPublicKeyInfo(), hash);
        return Convert.ToHexStringLower(hash[..8]);
    }

    private static ECDsa Import(string path, string what, Action<ECDsa, string> import, bool requirePrivate)
    {
        string pem;
        try
        {
            pem = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CommandKeyException($"cannot read {what} file '{path}': {e.Message}", e);
        }

        var key = ECDsa.Create();
        try
        {
            import(key, pem);
            if (key.KeySize != 256 || key.ExportParameters(false).Curve.Oid?.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
            {
                throw new CommandKeyException($"{what} file '{path}' is not an ECDSA P-256 key");
            }

            if (requirePrivate)
            {
                _ = key.ExportECPrivateKey();
            }
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new CommandKeyException($"{what} file '{path}' is not a PEM ECDSA P-256 {what}: {e.Message}", e);
        }
        catch
        {
            key.Dispose();
            throw;
        }

        return key;
    }

    private static UnixFileMode ModeOf(string path, string what)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new CommandKeyException($"{what} file '{path}' does not exist");
        }

        return File.GetUnixFileMode(path);
    }

    private static void WriteNew(string path, string content, UnixFileMode mode)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = mode,
        };
        try
        {
            using var stream = new FileStream(path, options);
            using var writer = new StreamWriter(stream);
            writer.Write(content);
            writer.Write('\n');
        }
        catch (IOException e) when (File.Exists(path))
        {
            throw new CommandKeyException($"'{path}' already exists; refusing to overwrite a key", e);
        }

        // The umask may have narrowed the create mode; set it exactly.
        File.SetUnixFileMode(path, mode);
    }

    private static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0xFFF, 8);
}
