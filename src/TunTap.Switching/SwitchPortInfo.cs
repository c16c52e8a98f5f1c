namespace TunTap.Switching;

/// <summary>A port of a running switch, as listed by <see cref="SwitchRunner.ListPorts"/>.</summary>
/// <param name="Id">The port id.</param>
/// <param name="Name">The port's name, e.g. <c>tap:vm0</c>.</param>
/// <param name="Vlan">Its VLAN configuration.</param>
/// <param name="Counters">Its live counters.</param>
/// <param name="BlockReason">Why loop protection blocked it, or null.</param>
/// <param name="Failure">Why its I/O stopped (device removed...), or null.</param>
/// <param name="Port">The port itself (for its own counters: see <see cref="IPortCounterSource"/>).</param>
public sealed record SwitchPortInfo(int Id, string Name, PortVlan Vlan, SwitchPortCounters Counters, string? BlockReason, string? Failure, ISwitchPort Port);
