namespace Ingest.Commands;

/// <summary>
/// librdkafka properties of the command path's two clients. Kafka:Properties carry the
/// cluster's security settings (security.protocol, ssl.*, sasl.*): without them the reader of
/// a TLS or SASL cluster would retry forever. Commands:ConsumerProperties override them.
/// </summary>
public static class CommandKafkaProperties
{
    /// <summary>Kafka:Properties, then Commands:ConsumerProperties over them.</summary>
    public static Dictionary<string, string> Merge(IReadOnlyDictionary<string, string> kafka, IReadOnlyDictionary<string, string> commands)
    {
        ArgumentNullException.ThrowIfNull(kafka);
        ArgumentNullException.ThrowIfNull(commands);
        var merged = new Dictionary<string, string>(kafka, StringComparer.Ordinal);
        foreach (var (name, value) in commands)
        {
            merged[name] = value;
        }

        return merged;
    }
}
