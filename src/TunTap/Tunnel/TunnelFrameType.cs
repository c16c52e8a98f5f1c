namespace TunTap.Tunnel;

/// <summary>What a tunnel frame carries (the first header byte).</summary>
public enum TunnelFrameType : byte
{
    /// <summary>The opening message: magic, version, mode, MTU, compression.</summary>
    Hello = 1,

    /// <summary>A hello refused: carries the refusing side's own values, sent before it closes.</summary>
    HelloReject = 2,

    /// <summary>One packet (IP for TUN, Ethernet for TAP), compressed when the flag says so.</summary>
    Data = 3,
}
