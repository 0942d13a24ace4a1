using Microsoft.Extensions.Configuration;

namespace Ingest.Configuration;

/// <summary>Builds <see cref="IngestOptions"/> in the usual .NET precedence: file, environment, flags.</summary>
public static class ConfigurationLoader
{
    public const string EnvironmentPrefix = "INGEST_";

    /// <param name="configFile">JSON file, or null.</param>
    /// <param name="overrides">Flag-derived settings as configuration paths ("Kafka:Bootstrap").</param>
    public static IngestOptions Load(string? configFile, IEnumerable<KeyValuePair<string, string?>> overrides)
    {
        var builder = new ConfigurationBuilder();
        if (configFile is not null)
        {
            var full = Path.GetFullPath(configFile);
            if (!File.Exists(full))
            {
                throw new ConfigurationException($"config file '{configFile}' does not exist");
            }

            builder.AddJsonFile(full, optional: false, reloadOnChange: false);
        }

        builder.AddEnvironmentVariables(EnvironmentPrefix);
        builder.AddInMemoryCollection(overrides);

        IConfigurationRoot root;
        try
        {
            root = builder.Build();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException)
        {
            throw new ConfigurationException($"config file '{configFile}' is not valid JSON: {e.InnerException?.Message ?? e.Message}");
        }

        var options = new IngestOptions();
        try
        {
            root.Bind(options, o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException e)
        {
            throw new ConfigurationException($"bad configuration value: {e.Message}");
        }

        options.Validate();
        return options;
    }
}
