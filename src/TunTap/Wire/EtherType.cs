namespace TunTap.Wire;

/// <summary>EtherType values (IEEE 802 numbers) used by <see cref="EthernetFrame"/>.</summary>
public static class EtherType
{
    /// <summary>Internet Protocol version 4.</summary>
    public const ushort Ipv4 = 0x0800;

    /// <summary>Address Resolution Protocol.</summary>
    public const ushort Arp = 0x0806;

    /// <summary>IEEE 802.1Q VLAN tag (customer tag).</summary>
    public const ushort Vlan = 0x8100;

    /// <summary>IEEE 802.1ad service VLAN tag (outer tag of Q-in-Q).</summary>
    public const ushort ServiceVlan = 0x88A8;

    /// <summary>Internet Protocol version 6.</summary>
    public const ushort Ipv6 = 0x86DD;
}
