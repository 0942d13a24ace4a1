using System.Security.Cryptography;

namespace Ingest.Commands;

/// <summary>
/// Signs with a P-256 private key into the <c>{"v","kid","body","sig"}</c> envelope: command
/// bodies with an operator's key (<c>ingest send</c>), result bodies with a host's key (the daemon).
/// </summary>
public sealed class CommandSigner : IDisposable
{
    private readonly ECDsa _key;

    /// <summary>Takes ownership of <paramref name="key"/>.</summary>
    public CommandSigner(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _key = key;
        KeyId = CommandKeys.KeyId(key);
    }

    public string KeyId { get; }

    /// <summary>Loads a private key file (refused when group or others can access it).</summary>
    public static CommandSigner Load(string privateKeyPath) => new(CommandKeys.LoadPrivate(privateKeyPath));

    /// <summary>The kernel.commands record value for <paramref name="request"/>.</summary>
    public byte[] Sign(CommandRequest request) => SignBody(CommandCodec.EncodeBody(request));

    /// <summary>The kernel.command-results record value for <paramref name="result"/>.</summary>
    public byte[] Sign(CommandResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return SignBody(result.Encode());
    }

    /// <summary>An envelope over exactly <paramref name="body"/>.</summary>
    public byte[] SignBody(byte[] body)
    {
        ArgumentNullException.ThrowIfNull(body);
        byte[] signature = _key.SignData(body, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return CommandCodec.EncodeEnvelope(KeyId, body, signature);
    }

    public void Dispose() => _key.Dispose();
}
