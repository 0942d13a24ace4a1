namespace Ingest.Transports.Tests.Effectors;

/// <summary>A temporary directory standing in for /proc/sys, with a sibling "outside" directory to escape to.</summary>
internal sealed class FakeSysctlTree : IDisposable
{
    public FakeSysctlTree()
    {
        Base = Directory.CreateTempSubdirectory("ingest-sysctl-").FullName;
        Root = Path.Combine(Base, "sys");
        Outside = Path.Combine(Base, "outside");
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Outside);
    }

    public string Base { get; }

    public string Root { get; }

    public string Outside { get; }

    /// <summary>Creates (with parents) a file at <paramref name="relative"/> under the root holding <paramref name="value"/>.</summary>
    public string Add(string relative, string value)
    {
        string path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, value + "\n");
        return path;
    }

    public string AddOutside(string name, string value)
    {
        string path = Path.Combine(Outside, name);
        File.WriteAllText(path, value + "\n");
        return path;
    }

    public void Dispose() => Directory.Delete(Base, recursive: true);
}
