namespace TunTap.Switching;

/// <summary>
/// What one port of the switch saw and did. Updated by the forwarding path and the port's
/// sender; any thread may read (reads are atomic). Every received frame is counted in
/// <see cref="ReceivedFrames"/> and is either forwarded (unicast or flooded), filtered, or dropped
/// for an ingress reason.
/// </summary>
public sealed class SwitchPortCounters
{
    private readonly long[] _droppedByReason = new long[Enum.GetValues<SwitchDropReason>().Length];
    private long _receivedFrames;
    private long _receivedBytes;
    private long _sentFrames;
    private long _sentBytes;
    private long _flooded;
    private long _filtered;
    private long _dropped;
    private long _macMoves;
    private long _macsNotLearned;

    /// <summary>Frames received from the port's peer.</summary>
    public long ReceivedFrames => Interlocked.Read(ref _receivedFrames);

    /// <summary>Bytes received from the port's peer.</summary>
    public long ReceivedBytes => Interlocked.Read(ref _receivedBytes);

    /// <summary>Frames delivered to the port's peer.</summary>
    public long SentFrames => Interlocked.Read(ref _sentFrames);

    /// <summary>Bytes delivered to the port's peer.</summary>
    public long SentBytes => Interlocked.Read(ref _sentBytes);

    /// <summary>Received frames sent to every port of their VLAN (broadcast, multicast, unknown unicast).</summary>
    public long Flooded => Interlocked.Read(ref _flooded);

    /// <summary>Received frames for a station on the same port (nothing to do).</summary>
    public long Filtered => Interlocked.Read(ref _filtered);

    /// <summary>Frames dropped for any <see cref="SwitchDropReason"/>.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Addresses that moved onto this port from another.</summary>
    public long MacMoves => Interlocked.Read(ref _macMoves);

    /// <summary>Source addresses not learned because a limit was reached (their frames were still forwarded).</summary>
    public long MacsNotLearned => Interlocked.Read(ref _macsNotLearned);

    /// <summary>Frames dropped for <paramref name="reason"/> (0 for an unknown reason).</summary>
    public long GetDropped(SwitchDropReason reason) =>
        (uint)reason < (uint)_droppedByReason.Length ? Interlocked.Read(ref _droppedByReason[(int)reason]) : 0;

    internal void CountReceived(int bytes)
    {
        Interlocked.Increment(ref _receivedFrames);
        Interlocked.Add(ref _receivedBytes, bytes);
    }

    /// <summary>Counts frames the port delivered (called by port runners).</summary>
    internal void CountSent(int frames, long bytes)
    {
        Interlocked.Add(ref _sentFrames, frames);
        Interlocked.Add(ref _sentBytes, bytes);
    }

    internal void CountFlooded() => Interlocked.Increment(ref _flooded);

    internal void CountFiltered() => Interlocked.Increment(ref _filtered);

    internal void CountMacMove() => Interlocked.Increment(ref _macMoves);

    internal void CountMacNotLearned() => Interlocked.Increment(ref _macsNotLearned);

    internal void CountDropped(SwitchDropReason reason, int frames = 1)
    {
        Interlocked.Add(ref _droppedByReason[(int)reason], frames);
        Interlocked.Add(ref _dropped, frames);
    }
}
