using System.Security.Cryptography;

namespace Ingest.Commands;

/// <summary>Signs command bodies with an operator's private key (used by <c>ingest send</c>).</summary>
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
    public byte[] Sign(CommandRequest request)
    {
        byte[] body = CommandCodec.EncodeBody(request);
        byte[] signature = _key.SignData(body, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return CommandCodec.EncodeEnvelope(KeyId, body, signature);
    }

    public void Dispose() => _key.Dispose();
}
