namespace TunTap.Emulation.Topology;

/// <summary>An emulated link between two hosts of a topology, with a model per direction.</summary>
/// <param name="Name">The link's name (for <c>tuntap emulate set</c>); by default <c>A-B</c>.</param>
/// <param name="A">End A's host.</param>
/// <param name="B">End B's host.</param>
/// <param name="AAddress">The address of A's device on the link.</param>
/// <param name="BAddress">The address of B's device on the link.</param>
/// <param name="AToBSpec">The model of packets A sends, as link spec text (see <see cref="LinkSpecParser"/>).</param>
/// <param name="BToASpec">The model of packets B sends.</param>
/// <param name="AToB">The parsed model of packets A sends.</param>
/// <param name="BToA">The parsed model of packets B sends.</param>
/// <param name="Line">The file line where the link starts (1-based).</param>
public sealed record TopologyLink(
    string Name,
    string A,
    string B,
    InterfaceAddress AAddress,
    InterfaceAddress BAddress,
    string AToBSpec,
    string BToASpec,
    LinkModelOptions AToB,
    LinkModelOptions BToA,
    int Line);
