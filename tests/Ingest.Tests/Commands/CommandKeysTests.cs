using Ingest.Commands;

namespace Ingest.Tests.Commands;

public sealed class CommandKeysTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-keys-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Keygen_writes_a_private_0600_and_a_public_0644_file()
    {
        string kid = CommandKeys.Generate(P("a.key"), P("a.pub"));

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(P("a.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(P("a.pub")));
        Assert.Matches("^[0-9a-f]{16}$", kid);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(P("a.key")), StringComparison.Ordinal);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", File.ReadAllText(P("a.pub")), StringComparison.Ordinal);
        using var priv = CommandKeys.LoadPrivate(P("a.key"));
        using var pub = CommandKeys.LoadPublic(P("a.pub"));
        Assert.Equal(kid, CommandKeys.KeyId(priv));
        Assert.Equal(kid, CommandKeys.KeyId(pub));
    }

    [Fact]
    public void Keygen_never_overwrites_a_key()
    {
        CommandKeys.Generate(P("a.key"), P("a.pub"));
        string before = File.ReadAllText(P("a.key"));

        var e = Assert.Throws<CommandKeyException>(() => CommandKeys.Generate(P("a.key"), P("b.pub")));

        Assert.Contains("already exists", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllText(P("a.key")));
    }

    [Theory]
    [InlineData(UnixFileMode.GroupRead, "0640")]
    [InlineData(UnixFileMode.OtherRead, "0604")]
    [InlineData(UnixFileMode.GroupRead | UnixFileMode.OtherRead, "0644")]
    public void Private_key_with_loose_permissions_is_refused(UnixFileMode extra, string shown)
    {
        CommandKeys.Generate(P("a.key"), P("a.pub"));
        File.SetUnixFileMode(P("a.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite | extra);

        var e = Assert.Throws<CommandKeyException>(() => CommandKeys.LoadPrivate(P("a.key")));

        Assert.Contains($"has mode {shown}", e.Message, StringComparison.Ordinal);
        Assert.Contains("chmod 600", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Public_key_writable_by_others_is_refused()
    {
        CommandKeys.Generate(P("a.key"), P("a.pub"));
        File.SetUnixFileMode(P("a.pub"), File.GetUnixFileMode(P("a.pub")) | UnixFileMode.OtherWrite);

        var e = Assert.Throws<CommandKeyException>(() => TrustedKeys.Load([P("a.pub")]));

        Assert.Contains("must not be writable by group or others", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_and_malformed_key_files_are_refused_clearly()
    {
        Assert.Contains("does not exist", Assert.Throws<CommandKeyException>(() => CommandKeys.LoadPublic(P("none.pub"))).Message, StringComparison.Ordinal);

        File.WriteAllText(P("junk.pub"), "not a key");
        File.SetUnixFileMode(P("junk.pub"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Contains("is not a PEM ECDSA P-256", Assert.Throws<CommandKeyException>(() => CommandKeys.LoadPublic(P("junk.pub"))).Message, StringComparison.Ordinal);

        // A public key where a private key is expected.
        CommandKeys.Generate(P("a.key"), P("a.pub"));
        File.SetUnixFileMode(P("a.pub"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Throws<CommandKeyException>(() => CommandKeys.LoadPrivate(P("a.pub")));
    }

    [Fact]
    public void Several_keys_are_trusted_at_once_for_rotation()
    {
        string oldKid = CommandKeys.Generate(P("old.key"), P("old.pub"));
        string newKid = CommandKeys.Generate(P("new.key"), P("new.pub"));
        using var trusted = TrustedKeys.Load([P("old.pub"), P("new.pub")]);
        using var oldSigner = CommandSigner.Load(P("old.key"));
        using var newSigner = CommandSigner.Load(P("new.key"));
        var request = CommandRequest.Sysctl("r1", "h", DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1), "vm.swappiness", "10");

        foreach (var (signer, kid) in new[] { (oldSigner, oldKid), (newSigner, newKid) })
        {
            Assert.True(CommandCodec.TryDecodeEnvelope(signer.Sign(request), out CommandEnvelope envelope, out _));
            Assert.Equal(kid, envelope.KeyId);
            Assert.True(trusted.Verify(envelope.KeyId, envelope.Body, envelope.Signature));
            Assert.False(trusted.Verify(kid == oldKid ? newKid : oldKid, envelope.Body, envelope.Signature));
        }
    }

    private string P(string name) => Path.Combine(_dir, name);
}
