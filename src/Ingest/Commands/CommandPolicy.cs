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
    public static CommandPolicy Compile(CommandOptions options, IReadOnlyList<IoctlDefinition>? ioctls) => Compile(options, ioctls, refuseExecSinkRules: true);

    /// <param name="options">The Commands section.</param>
    /// <param name="ioctls">The executor's catalog; null checks only the rules' own shape.</param>
    /// <param name="refuseExecSinkRules">
    /// False only in tests that prove the processor's own refusal of exec-sink keys behind a
    /// rule that start-up would have refused.
    /// </param>
    internal static CommandPolicy Compile(CommandOptions options, IReadOnlyList<IoctlDefinition>? ioctls, bool refuseExecSinkRules)
    {
        ArgumentNullException.ThrowIfNull(options);
        var sysctl = new SysctlRule[options.Sysctl.Count];
        for (int i = 0; i < sysctl.Length; i++)
        {
            sysctl[i] = SysctlRule.Compile(options.Sysctl[i], $"Commands:Sysctl:{i}", refuseExecSinkRules);
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

    /// <summary>
    /// Values are written to the kernel verbatim: whitespace, newlines and NUL would let one
    /// value be parsed as several (or cut short), so none is ever accepted.
    /// </summary>
    public static bool IsPlainValue(string value, out string? error)
    {
        ArgumentNullException.ThrowIfNull(value);
        foreach (char c in value)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                error = $"value contains whitespace, a newline, NUL or a control character (U+{(int)c:X4}); values are single tokens";
                return false;
            }
        }

        error = null;
        return true;
    }

    /// <summary>The integer form a range rule accepts: decimal, no leading zeros (the kernel reads 035 as octal), no '+'.</summary>
    public static bool TryParseStrictDecimal(string value, out long number)
    {
        number = 0;
        ReadOnlySpan<char> digits = value.StartsWith('-') ? value.AsSpan(1) : value.AsSpan();
        if (digits.Length == 0 || (digits[0] == '0' && digits.Length > 1))
        {
            return false;
        }

        foreach (char c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number);
    }

    /// <summary>True when some rule covers <paramref name="key"/> (by path segments) and accepts <paramref name="value"/>.</summary>
    public bool AllowsSysctl(SysctlKey key, string value, out string? error)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (ExecSinkSysctls.IsRefused(key))
        {
            error = $"sysctl {key.DisplayName} makes the kernel execute a program: always refused";
            return false;
        }

        if (!IsPlainValue(value, out error))
        {
            return false;
        }

        bool covered = false;
        string? refusal = null;
        foreach (SysctlRule rule in _sysctl)
        {
            if (!rule.Covers(key.Segments))
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

        error = covered ? $"{key.DisplayName}: {refusal}" : $"sysctl {key.DisplayName} is not allowlisted";
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
        private readonly string[] _segments;
        private readonly bool _isPrefix;
        private readonly long _min;
        private readonly long _max;
        private readonly bool _isRange;
        private readonly HashSet<string>? _values;
        private readonly Regex? _pattern;

        private SysctlRule(string[] segments, bool isPrefix, bool isRange, long min, long max, HashSet<string>? values, Regex? pattern)
        {
            _segments = segments;
            _isPrefix = isPrefix;
            _isRange = isRange;
            _min = min;
            _max = max;
            _values = values;
            _pattern = pattern;
        }

        public static SysctlRule Compile(SysctlRuleOptions options, string where, bool refuseExecSinkRules)
        {
            if ((options.Key is null) == (options.Prefix is null))
            {
                throw new ConfigurationException($"{where}: set exactly one of Key or Prefix");
            }

            string name = (options.Key ?? options.Prefix)!.TrimEnd('.', '/');
            if (!SysctlKey.TryParse(name, out SysctlKey? parsed, out string? error))
            {
                throw new ConfigurationException($"{where}: {error}");
            }

            bool isPrefix = options.Prefix is not null;
            string? sink = ExecSinkSysctls.CoveredBy(parsed!.Segments, isPrefix);
            if (refuseExecSinkRules && sink is not null)
            {
                throw new ConfigurationException(
                    $"{where}: {(isPrefix ? "Prefix" : "Key")} '{name}' would cover {sink}, which makes the kernel execute a program as root; such keys are never writable by command");
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

            foreach (string allowed in options.Values ?? [])
            {
                if (!IsPlainValue(allowed, out string? valueError))
                {
                    throw new ConfigurationException($"{where}: Values: '{allowed}': {valueError}");
                }
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
            return new SysctlRule([.. parsed.Segments], isPrefix, isRange, options.Min ?? 0, options.Max ?? 0, values, pattern);
        }

        /// <summary>Segment by segment: a rule for interface v0 never covers v0.1, whichever separator the key used.</summary>
        public bool Covers(IReadOnlyList<string> segments)
        {
            if (_isPrefix ? segments.Count <= _segments.Length : segments.Count != _segments.Length)
            {
                return false;
            }

            for (int i = 0; i < _segments.Length; i++)
            {
                if (!string.Equals(segments[i], _segments[i], StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }

        public bool Accepts(string value, out string? error)
        {
            if (_isRange)
            {
                // ^-?(0|[1-9][0-9]*)$ only: the kernel parses base 0, so 035 is octal 29 and 0x1e is 30.
                if (!TryParseStrictDecimal(value, out long number))
                {
                    error = $"value '{value}' is not a plain decimal integer (no leading zeros, sign '+', hex or spaces)";
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
