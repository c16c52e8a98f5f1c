using System.Net.NetworkInformation;

namespace TunTap.Netlink;

/// <summary>A network interface as rtnetlink reports it (what <c>ip -d link show</c> prints).</summary>
/// <param name="Index">The interface index (ifindex).</param>
/// <param name="Name">The interface name.</param>
/// <param name="Kind">The link kind from IFLA_INFO_KIND (<c>tun</c>, <c>veth</c>, <c>dummy</c>...), or null for physical and loopback interfaces.</param>
/// <param name="IsUp">True when administratively up (IFF_UP).</param>
/// <param name="HasCarrier">True when the lower layer is up (IFF_LOWER_UP, or operational state up).</param>
/// <param name="Mtu">The MTU in bytes.</param>
/// <param name="Address">The link-layer address, or null when the link has none (TUN devices).</param>
/// <param name="Tun">TUN/TAP details; non-null only for links of kind <c>tun</c>.</param>
public sealed record LinkInfo(int Index, string Name, string? Kind, bool IsUp, bool HasCarrier, int Mtu, PhysicalAddress? Address, TunLinkInfo? Tun);
