namespace TunTap.Wire;

/// <summary>Neighbor discovery option types, RFC 4861 section 4.6.</summary>
public static class NdpOptionType
{
    /// <summary>Source link-layer address.</summary>
    public const byte SourceLinkLayerAddress = 1;

    /// <summary>Target link-layer address.</summary>
    public const byte TargetLinkLayerAddress = 2;
}
