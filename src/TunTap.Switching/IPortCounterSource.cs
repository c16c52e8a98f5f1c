namespace TunTap.Switching;

/// <summary>
/// A port that counts things the switch cannot see, such as datagrams dropped before they became
/// frames; the CLI shows these next to the switch's own per-port counters.
/// </summary>
public interface IPortCounterSource
{
    /// <summary>Adds the port's own counters (label, value) to <paramref name="rows"/>; labels are stable, values only grow.</summary>
    void ReadCounters(ICollection<(string Label, long Value)> rows);
}
