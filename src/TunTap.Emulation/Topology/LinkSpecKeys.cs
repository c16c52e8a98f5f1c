namespace TunTap.Emulation.Topology;

/// <summary>
/// The model keys of a topology file (and of <c>tuntap emulate set</c>), named like the options of
/// <c>tuntap emulate link</c>: <c>delay = "50ms"</c>, <c>jitter</c>, <c>distribution</c>,
/// <c>loss = "1%"</c>, <c>duplicate</c>, <c>corrupt</c>, <c>reorder</c>, <c>rate = "10mbit"</c>,
/// <c>queue</c>, <c>slot</c>, <c>trace</c>, <c>delay_trace</c>, and <c>spec</c> for any other
/// link spec text. Each turns into link spec text (see <see cref="LinkSpecParser"/>).
/// </summary>
public static class LinkSpecKeys
{
    /// <summary>The keys, in the order their spec text is put together.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["delay", "jitter", "distribution", "loss", "duplicate", "corrupt", "reorder", "rate", "queue", "slot", "trace", "delay_trace", "spec"];

    /// <summary>True when <paramref name="key"/> is a model key.</summary>
    public static bool IsKey(string key)
    {
        foreach (var name in Names)
        {
            if (name == key)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The spec text of one key alone (a <c>jitter</c> alone keeps a zero delay), for checking it on
    /// its own so an error can name it.
    /// </summary>
    public static string Fragment(string key, string value) => key switch
    {
        "delay" => $"delay {value}",
        "jitter" => $"delay 0ms {value}",
        "delay_trace" => $"delay-trace {value}",
        "spec" => value,
        _ when IsKey(key) => $"{key} {value}",
        _ => throw new ArgumentException($"'{key}' is not a model key.", nameof(key)),
    };

    /// <summary>
    /// Spec text that checks one key alone: its <see cref="Fragment"/>, with a stand-in delay for
    /// <c>reorder</c> (which needs one, perhaps from another key).
    /// </summary>
    public static string CheckText(string key, string value) => key == "reorder" ? $"delay 1ms {Fragment(key, value)}" : Fragment(key, value);

    /// <summary>Puts the spec text of <paramref name="values"/> (key to value) together, in <see cref="Names"/> order.</summary>
    public static string ToSpec(IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var parts = new List<string>();
        values.TryGetValue("delay", out var delay);
        values.TryGetValue("jitter", out var jitter);
        if (delay is not null || jitter is not null)
        {
            parts.Add(jitter is null ? $"delay {delay}" : $"delay {delay ?? "0ms"} {jitter}");
        }

        foreach (var name in Names)
        {
            if (name is not ("delay" or "jitter") && values.TryGetValue(name, out var value))
            {
                parts.Add(Fragment(name, value));
            }
        }

        return string.Join(' ', parts);
    }
}
