namespace Ingest.Transports.Effectors;

/// <summary>An ioctl a command may name, with its typed arguments in call order.</summary>
/// <param name="Name">Command-facing name ("set_rate").</param>
/// <param name="Request">The uapi macro ("KINGEST_IOC_SET_RATE"), for messages.</param>
/// <param name="Arguments">Integer arguments in the order the executor passes them.</param>
public sealed record IoctlDefinition(string Name, string Request, IReadOnlyList<IoctlArgument> Arguments)
{
    /// <summary>
    /// Binds named arguments to <see cref="Arguments"/> order. Refuses missing, unknown and
    /// out-of-range arguments (the uapi range; an allowlist may narrow it further).
    /// </summary>
    public bool TryBind(IReadOnlyDictionary<string, long> named, out long[] values, out string? error)
    {
        ArgumentNullException.ThrowIfNull(named);
        values = new long[Arguments.Count];
        foreach (string given in named.Keys)
        {
            if (!HasArgument(given))
            {
                error = $"ioctl {Name} has no argument '{given}' (arguments: {Describe()})";
                return false;
            }
        }

        for (int i = 0; i < Arguments.Count; i++)
        {
            IoctlArgument argument = Arguments[i];
            if (!named.TryGetValue(argument.Name, out long value))
            {
                error = $"ioctl {Name} needs argument '{argument.Name}' ({argument.Min}..{argument.Max})";
                return false;
            }

            if (value < argument.Min || value > argument.Max)
            {
                error = $"ioctl {Name}: {argument.Name}={value} is outside {argument.Min}..{argument.Max}";
                return false;
            }

            values[i] = value;
        }

        error = null;
        return true;
    }

    private bool HasArgument(string name)
    {
        foreach (IoctlArgument argument in Arguments)
        {
            if (argument.Name == name)
            {
                return true;
            }
        }

        return false;
    }

    private string Describe() => Arguments.Count == 0 ? "none" : string.Join(", ", Arguments.Select(a => $"{a.Name} {a.Min}..{a.Max}"));
}
