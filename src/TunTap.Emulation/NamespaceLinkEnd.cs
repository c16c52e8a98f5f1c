namespace TunTap.Emulation;

/// <summary>One end of a <see cref="NamespaceLink"/>: the network namespace, the name of the TUN device created there and its address.</summary>
/// <param name="Netns">The namespace (it must exist).</param>
/// <param name="Device">The TUN device's name (it must not exist yet in that namespace).</param>
/// <param name="Address">The device's address; both ends' addresses share one subnet (e.g. 10.200.0.1/24 and 10.200.0.2/24).</param>
/// <param name="Ipv6">False: the device gets no IPv6 at all, so it never sends router solicitations or MLD reports (which would take random draws of a seeded model).</param>
public sealed record NamespaceLinkEnd(string Netns, string Device, InterfaceAddress Address, bool Ipv6 = true);
