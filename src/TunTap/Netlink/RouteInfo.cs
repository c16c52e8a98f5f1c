using System.Net;

namespace TunTap.Netlink;

/// <summary>A route of the main table, as <c>ip route</c> / <c>ip -6 route</c> lists it.</summary>
/// <param name="Destination">The destination network (<c>0.0.0.0/0</c> or <c>::/0</c> for default).</param>
/// <param name="Gateway">The next hop, or null for a directly connected route.</param>
/// <param name="InterfaceIndex">The output interface index, or null when the route has none (e.g. unreachable).</param>
/// <param name="Device">The output interface name, or null when unknown.</param>
/// <param name="Metric">The priority (RTA_PRIORITY), or null when unset.</param>
/// <param name="PreferredSource">The preferred source address (RTA_PREFSRC), or null.</param>
/// <param name="Protocol">Who installed it (rtm_protocol: 2 kernel, 3 boot, 4 static...).</param>
/// <param name="Scope">rtm_scope: 0 universe, 253 link, 254 host.</param>
/// <param name="Type">rtm_type: 1 unicast, 6 blackhole, 7 unreachable...</param>
public sealed record RouteInfo(InterfaceAddress Destination, IPAddress? Gateway, int? InterfaceIndex, string? Device, int? Metric, IPAddress? PreferredSource, byte Protocol, byte Scope, byte Type);
