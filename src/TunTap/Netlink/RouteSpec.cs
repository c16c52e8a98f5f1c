using System.Net;

namespace TunTap.Netlink;

/// <summary>A route to add to or delete from the main table.</summary>
/// <param name="Destination">The destination network, e.g. <c>10.1.0.0/16</c>, or <c>0.0.0.0/0</c> / <c>::/0</c> for a default route. Host bits are cleared before sending.</param>
/// <param name="Gateway">The next hop, or null for a route straight out of <paramref name="Device"/> (link scope).</param>
/// <param name="Device">The output interface, or null to let the kernel pick it from the gateway.</param>
/// <param name="Metric">The route priority (lower wins), or null for the kernel default.</param>
public sealed record RouteSpec(InterfaceAddress Destination, IPAddress? Gateway = null, string? Device = null, int? Metric = null);
