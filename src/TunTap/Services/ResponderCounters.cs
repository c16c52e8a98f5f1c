namespace TunTap.Services;

/// <summary>
/// What a <see cref="PacketResponder"/> did. Written by the one thread that calls
/// <see cref="PacketResponder.Process"/>; any thread may read (reads are volatile).
/// Every packet is counted in <see cref="Received"/> and in exactly one of
/// <see cref="Replied"/>, <see cref="Ignored"/> or <see cref="Dropped"/>.
/// </summary>
public sealed class ResponderCounters
{
    private readonly long[] _droppedByReason = new long[Enum.GetValues<ResponderDropReason>().Length];
    private long _replied;
    private long _ignored;
    private long _dropped;

    /// <summary>Packets given to the responder.</summary>
    public long Received => Replied + Ignored + Dropped;

    /// <summary>Packets answered.</summary>
    public long Replied => Volatile.Read(ref _replied);

    /// <summary>Well-formed packets that were not for the responder (or need no answer).</summary>
    public long Ignored => Volatile.Read(ref _ignored);

    /// <summary>Packets dropped for any <see cref="ResponderDropReason"/>.</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>Packets dropped for <paramref name="reason"/> (0 for an unknown reason).</summary>
    public long GetDropped(ResponderDropReason reason) =>
        (uint)reason < (uint)_droppedByReason.Length ? Volatile.Read(ref _droppedByReason[(int)reason]) : 0;

    internal void CountReplied() => Volatile.Write(ref _replied, _replied + 1);

    internal void CountIgnored() => Volatile.Write(ref _ignored, _ignored + 1);

    internal void CountDropped(ResponderDropReason reason)
    {
        Volatile.Write(ref _droppedByReason[(int)reason], _droppedByReason[(int)reason] + 1);
        Volatile.Write(ref _dropped, _dropped + 1);
    }
}
