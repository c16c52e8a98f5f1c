using TunTap.Wire;

namespace TunTap.Switching;

/// <summary>One learned address, as listed by <see cref="MacTable.CopyEntries"/>.</summary>
/// <param name="Address">The station's MAC address.</param>
/// <param name="Vlan">The VLAN it was learned in (each VLAN has its own addresses).</param>
/// <param name="Port">The port it was last seen on.</param>
/// <param name="Age">How long ago it was last seen.</param>
public readonly record struct MacTableEntry(MacAddress Address, ushort Vlan, int Port, TimeSpan Age);
