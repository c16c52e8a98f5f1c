namespace TunTap.Tunnel;

/// <summary>Per-frame flags (the second header byte).</summary>
[Flags]
public enum TunnelFrameFlags : byte
{
    /// <summary>The payload is the packet as it is.</summary>
    None = 0,

    /// <summary>The payload is the packet compressed by <see cref="PacketCompressor"/>.</summary>
    Compressed = 1,
}
