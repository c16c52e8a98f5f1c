using TunTap.Services;

namespace TunTap.Switching;

/// <summary>A port of a running switch, as listed by <see cref="SwitchRunner.ListPorts"/>.</summary>
/// <param name="Id">The port id.</param>
/// <param name="Name">The port's name, e.g. <c>tap:vm0</c>.</param>
/// <param name="Vlan">Its VLAN configuration.</param>
/// <param name="Counters">Its live counters.</param>
/// <param name="BlockReason">Why loop protection blocked it, or null.</param>
/// <param name="Failure">Why its I/O stopped (device removed...), or null.</param>
/// <param name="Port">The port itself (for its own counters: see <see cref="IPortCounterSource"/>).</param>
public sealed record SwitchPortInfo(int Id, string Name, PortVlan Vlan, SwitchPortCounters Counters, string? BlockReason, string? Failure, ISwitchPort Port)
{
    /// <summary>
    /// The counters as (label, value) rows, the way the CLI and the control socket show them:
    /// rx/tx frames and bytes, flooded, mac-moves, macs-not-learned, blocked (0/1), dropped, then
    /// <c>dropped REASON</c> for each reason seen and the port's own counters (<see cref="IPortCounterSource"/>).
    /// </summary>
    public void ReadCounters(ICollection<(string Label, long Value)> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        rows.Add(("rx-frames", Counters.ReceivedFrames));
        rows.Add(("rx-bytes", Counters.ReceivedBytes));
        rows.Add(("tx-frames", Counters.SentFrames));
        rows.Add(("tx-bytes", Counters.SentBytes));
        rows.Add(("flooded", Counters.Flooded));
        rows.Add(("mac-moves", Counters.MacMoves));
        rows.Add(("macs-not-learned", Counters.MacsNotLearned));
        rows.Add(("blocked", BlockReason is null ? 0 : 1));
        rows.Add(("dropped", Counters.Dropped));
        DropReasonNames.AddRows<SwitchDropReason>(rows, "dropped", Counters.GetDropped);

        if (Port is IPortCounterSource own)
        {
            own.ReadCounters(rows);
        }
    }
}
