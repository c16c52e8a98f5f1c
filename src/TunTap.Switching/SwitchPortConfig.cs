namespace TunTap.Switching;

/// <summary>How a port of a <see cref="LearningSwitch"/> is set up.</summary>
public sealed record SwitchPortConfig
{
    /// <summary>The name shown in counters and logs (e.g. <c>tap:vm0</c>).</summary>
    public required string Name { get; init; }

    /// <summary>Access (one untagged VLAN) or trunk (tagged VLANs); access VLAN 1 by default.</summary>
    public PortVlan Vlan { get; init; } = PortVlan.Default;

    /// <summary>The most MAC addresses learned on this port; null for <see cref="SwitchOptions.DefaultPortMacLimit"/>.</summary>
    public int? MacLimit { get; init; }
}
