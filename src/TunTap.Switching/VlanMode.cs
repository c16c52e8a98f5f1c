namespace TunTap.Switching;

/// <summary>How a switch port handles VLANs.</summary>
public enum VlanMode
{
    /// <summary>One VLAN (the PVID); frames enter and leave untagged.</summary>
    Access,

    /// <summary>Several VLANs, tagged with 802.1Q; untagged frames belong to the native VLAN, if any.</summary>
    Trunk,
}
