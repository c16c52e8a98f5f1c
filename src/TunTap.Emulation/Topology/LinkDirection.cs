namespace TunTap.Emulation.Topology;

/// <summary>Which direction(s) of a link a model change applies to.</summary>
[Flags]
public enum LinkDirection
{
    /// <summary>Packets end A sends (<c>a2b</c>).</summary>
    AToB = 1,

    /// <summary>Packets end B sends (<c>b2a</c>).</summary>
    BToA = 2,

    /// <summary>Both directions (<c>both</c>).</summary>
    Both = AToB | BToA,
}
