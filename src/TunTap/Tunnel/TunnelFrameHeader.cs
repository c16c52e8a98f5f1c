namespace TunTap.Tunnel;

/// <summary>A parsed tunnel frame header: type, flags and the payload length that follows it.</summary>
/// <param name="Type">What the frame carries (not validated: may be any byte value).</param>
/// <param name="Flags">Per-frame flags (not validated).</param>
/// <param name="Length">Payload bytes after the header.</param>
public readonly record struct TunnelFrameHeader(TunnelFrameType Type, TunnelFrameFlags Flags, int Length)
{
    /// <summary>Whether the type is one this version knows and the flags are allowed for it.</summary>
    public bool IsKnown => Type switch
    {
        TunnelFrameType.Hello or TunnelFrameType.HelloReject => Flags == TunnelFrameFlags.None,
        TunnelFrameType.Data => (Flags & ~TunnelFrameFlags.Compressed) == 0,
        _ => false,
    };
}
