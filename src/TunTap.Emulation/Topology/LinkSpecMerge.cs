namespace TunTap.Emulation.Topology;

/// <summary>
/// Puts a change on top of a link spec: each option of the change (a top-level keyword with its
/// arguments, e.g. <c>delay 80ms 5ms</c> or <c>loss gemodel 1% 30%</c>) replaces the same option of
/// the current spec as a whole; the others stay. <c>rate</c> and <c>trace</c> replace each other
/// (a link has one bottleneck). The result stays as short as the set of options in use.
/// </summary>
public static class LinkSpecMerge
{
    private static readonly string[] Options =
    [
        "delay", "distribution", "keep-order", "loss", "duplicate", "corrupt", "reorder", "limit", "rate",
        "queue", "queue-bytes", "codel", "slot", "trace", "delay-trace",
    ];

    /// <summary>The options of <paramref name="current"/> that <paramref name="change"/> does not name, then <paramref name="change"/>.</summary>
    public static string Merge(string current, string change)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(change);
        var changed = Groups(change);
        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (option, _) in changed)
        {
            named.Add(option);
            if (option is "rate" or "trace")
            {
                named.Add(option == "rate" ? "trace" : "rate");
            }
        }

        var parts = new List<string>();
        foreach (var (option, text) in Groups(current))
        {
            if (!named.Contains(option))
            {
                parts.Add(text);
            }
        }

        foreach (var (_, text) in changed)
        {
            parts.Add(text);
        }

        return string.Join(' ', parts);
    }

    /// <summary>Splits spec text at its top-level options: (option, its text with arguments).</summary>
    private static List<(string Option, string Text)> Groups(string spec)
    {
        var groups = new List<(string, string)>();
        var tokens = spec.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var start = 0;
        for (var i = 1; i <= tokens.Length; i++)
        {
            if (i == tokens.Length || Array.IndexOf(Options, tokens[i].ToLowerInvariant()) >= 0)
            {
                groups.Add((tokens[start].ToLowerInvariant(), string.Join(' ', tokens, start, i - start)));
                start = i;
            }
        }

        return groups;
    }
}
