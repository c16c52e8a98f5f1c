namespace TunTap.Tunnel;

/// <summary>What <see cref="TunnelFrameReader.TryRead"/> found in the buffered bytes.</summary>
public enum TunnelFrameReadResult
{
    /// <summary>A complete frame; its header and payload are returned.</summary>
    Frame,

    /// <summary>The buffered bytes do not yet hold a complete frame.</summary>
    NeedMore,

    /// <summary>A header announces more payload than the maximum: the stream is garbage.</summary>
    Oversize,

    /// <summary>A header with an unknown type or flags: the stream is garbage.</summary>
    Malformed,
}
