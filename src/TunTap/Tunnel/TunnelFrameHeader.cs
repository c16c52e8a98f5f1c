namespace TunTap.Tunnel;

/// <summary>A parsed tunnel frame header: type, flags and the payload length that follows it.</summary>
/// <param name="Type">What the frame carries (not validated: may be any byte value).</param>
/// <param name="Flags">Per-frame flags (not validated).</param>
/// <param name="Length">Payload bytes after the header.</param>
public readonly record struct TunnelFrameHeader(TunnelFrameType Type, TunnelFrameFlags Flags, int Length)
{
    private const TunnelFrameFlags DataFlags = TunnelFrameFlags.Compressed | TunnelFrameFlags.LongLength | TunnelFrameFlags.VnetHeader | TunnelFrameFlags.PartialChecksum;

    /// <summary>Whether the type is one this version knows and the flags are allowed for it.</summary>
    public bool IsKnown => Type switch
    {
        TunnelFrameType.Hello or TunnelFrameType.HelloReject => Flags == TunnelFrameFlags.None,
        TunnelFrameType.Data => (Flags & ~DataFlags) == 0,
        _ => false,
    };

    /// <summary>The header's own size: <see cref="TunnelFrame.LongHeaderSize"/> with <see cref="TunnelFrameFlags.LongLength"/>, else <see cref="TunnelFrame.HeaderSize"/>.</summary>
    public int Size => (Flags & TunnelFrameFlags.LongLength) != 0 ? TunnelFrame.LongHeaderSize : TunnelFrame.HeaderSize;

    /// <summary>Header plus payload bytes.</summary>
    public int FrameLength => Size + Length;
}
