namespace TunTap.Netlink;

/// <summary>An address assigned to an interface.</summary>
/// <param name="InterfaceIndex">The index of the interface that holds it.</param>
/// <param name="Address">The address with its prefix length.</param>
public sealed record AddressInfo(int InterfaceIndex, InterfaceAddress Address);
