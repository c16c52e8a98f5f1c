namespace TunTap.Emulation;

/// <summary>Decides, packet after packet, which packets a link loses.</summary>
public interface ILossModel
{
    /// <summary>Whether the next packet is lost, drawing from <paramref name="random"/>.</summary>
    bool NextIsLost(LinkRandom random);

    /// <summary>The long-run fraction of packets lost.</summary>
    double StationaryLossRate { get; }
}
