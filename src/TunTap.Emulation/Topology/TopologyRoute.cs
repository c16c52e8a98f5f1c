using System.Net;

namespace TunTap.Emulation.Topology;

/// <summary>A route of a host: <paramref name="Destination"/> via <paramref name="Gateway"/> (written <c>"10.0.0.0/8 via 10.77.0.2"</c>, or <c>"default via ..."</c>).</summary>
/// <param name="Destination">The destination network.</param>
/// <param name="Gateway">The next hop, an address on one of the host's links.</param>
public sealed record TopologyRoute(InterfaceAddress Destination, IPAddress Gateway);
