using System.Globalization;
using System.Text.RegularExpressions;
using Ingest.Transports.Effectors;

namespace Ingest.Commands;

/// <summary>
/// The compiled allowlist: which sysctl keys may take which values, and which ioctls may run
/// with which arguments. Anything not matched is denied.
/// </summary>
public sealed class CommandPolicy
{
    private static readonly TimeSpan s_patternTimeout = TimeSpan.FromMilliseconds(100);

    private readonly SysctlRule[] _sysctl;
    private readonly Dictionary<string, IoctlRule> _ioctls;

    private CommandPolicy(SysctlRule[] sysctl, Dictionary<string, IoctlRule> ioctls)
    {
        _sysctl = sysctl;
        _ioctls = ioctls;
    }

    /// <summary>Checks and compiles <paramref name="options"/>' rules.</summary>
    /// <param name="options">The Commands section.</param>
    /// <param name="ioctls">The executor's catalog; null checks only the rules' own shape.</param>
    /// <exception cref="ConfigurationException">A rule is malformed or names an unknown ioctl.</exception>
    public static CommandPolicy Compile(CommandOptions options, IReadOnlyList<IoctlDefinition>? ioctls)
    {
        ArgumentNullException.ThrowIfNull(options);
        var sysctl = new SysctlRule[options.Sysctl.Count];
        for (int i = 0; i < sysctl.Length; i++)
        {
            sysctl[i] = SysctlRule.Compile(options.Sysctl[i], $"Commands:Sysctl:{i}");
        }

        var compiled = new Dictionary<string, IoctlRule>(StringComparer.Ordinal);
        for (int i = 0; i < options.Ioctls.Count; i++)
        {
            IoctlRuleOptions rule = options.Ioctls[i];
            string where = $"Commands:Ioctls:{i}";
            if (string.IsNullOrWhiteSpace(rule.Name))
            {
                throw new ConfigurationException($"{where}: Name is required");
            }

            IoctlDefinition? definition = null;
            if (ioctls is not null)
            {
                definition = ioctls.FirstOrDefault(d => d.Name == rule.Name)
                    ?? throw new ConfigurationException($"{where}: unknown ioctl '{rule.Name}' (known: {string.Join(", ", ioctls.Select(d => d.Name))})");
                foreach (string arg in rule.Args.Keys)
                {
                    if (definition.Arguments.All(a => a.Name != arg))
                    {
                        throw new ConfigurationException($"{where}: ioctl {rule.Name} has no argument '{arg}'");
                    }
                }
            }

            foreach (var (arg, range) in rule.Args)
            {
                if (range.Min > range.Max)
                {
                    throw new ConfigurationException($"{where}:Args:{arg}: Min {range.Min} is greater than Max {range.Max}");
                }
            }

            if (!compiled.TryAdd(rule.Name, new IoctlRule(definition, rule.Args)))
            {
                throw new ConfigurationException($"{where}: ioctl '{rule.Name}' is listed twice");
            }
        }

        return new CommandPolicy(sysctl, compiled);
    }

    /// <summary>True when some rule covers <paramref name="key"/> and accepts <paramref name="value"/>.</summary>
    public bool AllowsSysctl(SysctlKey key, string value, out string? error)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        bool covered = false;
        string? refusal = null;
        foreach (SysctlRule rule in _sysctl)
        {
            if (!rule.Covers(key.Name))
            {
                continue;
            }

            covered = true;
            if (rule.Accepts(value, out refusal))
            {
                error = null;
                return true;
            }
        }

        error = covered ? $"{key.Name}: {refusal}" : $"sysctl {key.Name} is not allowlisted";
        return false;
    }

    /// <summary>True when <paramref name="definition"/> is allowlisted and <paramref name="values"/> fit its ranges.</summary>
    public bool AllowsIoctl(IoctlDefinition definition, ReadOnlySpan<long> values, out string? error)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (!_ioctls.TryGetValue(definition.Name, out IoctlRule? rule))
        {
            error = $"ioctl {definition.Name} is not allowlisted";
            return false;
        }

        for (int i = 0; i < definition.Arguments.Count; i++)
        {
            IoctlArgument argument = definition.Arguments[i];
            if (rule.Args.TryGetValue(argument.Name, out RangeOptions? range) && (values[i] < range.Min || values[i] > range.Max))
            {
                error = $"ioctl {definition.Name}: {argument.Name}={values[i]} is outside the allowed {range.Min}..{range.Max}";
                return false;
            }
        }

        error = null;
        return true;
    }

    private sealed record IoctlRule(IoctlDefinition? Definition, Dictionary<string, RangeOptions> Args);

    private sealed class SysctlRule
    {
        private readonly string? _key;
        private readonly string? _prefix;
        private readonly long _min;
        private readonly long _max;
        private readonly bool _isRange;
        private readonly HashSet<string>? _values;
        private readonly Regex? _pattern;

        private SysctlRule(string? key, string? prefix, bool isRange, long min, long max, HashSet<string>? values, Regex? pattern)
        {
            _key = key;
            _prefix = prefix;
            _isRange = isRange;
            _min = min;
            _max = max;
            _values = values;
            _pattern = pattern;
        }

        public static SysctlRule Compile(SysctlRuleOptions options, string where)
        {
            if ((options.Key is null) == (options.Prefix is null))
            {
                throw new ConfigurationException($"{where}: set exactly one of Key or Prefix");
            }

            string name = (options.Key ?? options.Prefix)!.TrimEnd('.');
            if (!SysctlKey.TryParse(name, out SysctlKey? parsed, out string? error))
            {
                throw new ConfigurationException($"{where}: {error}");
            }

            bool isRange = options.Min is not null || options.Max is not null;
            int rules = (isRange ? 1 : 0) + (options.Values is not null ? 1 : 0) + (options.Pattern is not null ? 1 : 0);
            if (rules != 1)
            {
                throw new ConfigurationException($"{where}: set exactly one value rule: Min+Max, Values or Pattern");
            }

            if (isRange && (options.Min is null || options.Max is null || options.Min > options.Max))
            {
                throw new ConfigurationException($"{where}: Min and Max are both required, with Min <= Max");
            }

            Regex? pattern = null;
            if (options.Pattern is not null)
            {
                try
                {
                    // Anchored, linear-time: the value is attacker-chosen until the signature is checked,
                    // and a host must not be stalled by a pattern.
                    pattern = new Regex($"^(?:{options.Pattern})$", RegexOptions.NonBacktracking | RegexOptions.CultureInvariant, s_patternTimeout);
                }
                catch (Exception e) when (e is ArgumentException or NotSupportedException)
                {
                    throw new ConfigurationException($"{where}: Pattern is not a valid regular expression: {e.Message}");
                }
            }

            HashSet<string>? values = options.Values is null ? null : new HashSet<string>(options.Values, StringComparer.Ordinal);
            return options.Key is not null
                ? new SysctlRule(parsed!.Name, null, isRange, options.Min ?? 0, options.Max ?? 0, values, pattern)
                : new SysctlRule(null, parsed!.Name, isRange, options.Min ?? 0, options.Max ?? 0, values, pattern);
        }

        public bool Covers(string name) =>
            _key is not null
                ? name == _key
                : name.Length > _prefix!.Length && name.StartsWith(_prefix, StringComparison.Ordinal) && name[_prefix.Length] == '.';

        public bool Accepts(string value, out string? error)
        {
            if (_isRange)
            {
                // Plain decimal only: no sign tricks, spaces, hex or several numbers.
                if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number))
                {
                    error = $"value '{value}' is not an integer";
                    return false;
                }

                if (number < _min || number > _max)
                {
                    error = $"value {number} is outside {_min}..{_max}";
                    return false;
                }
            }
            else if (_values is not null && !_values.Contains(value))
            {
                error = $"value '{value}' is not one of {string.Join(", ", _values)}";
                return false;
            }
            else if (_pattern is not null && !_pattern.IsMatch(value))
            {
                error = $"value '{value}' does not match the allowed pattern";
                return false;
            }

            error = null;
            return true;
        }
    }
}
