using TunTap.Services;

namespace TunTap.Switching.Dhcp;

/// <summary>What a <see cref="DhcpServer"/> did; read from any thread while it runs.</summary>
public sealed class DhcpServerCounters
{
    private readonly DropCounters<DhcpDropReason> _dropped = new();
    private long _received;
    private long _offers;
    private long _acks;
    private long _naks;
    private long _releases;
    private long _declines;
    private long _informs;
    private long _saveFailures;

    /// <summary>Datagrams to the server port.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>OFFERs sent.</summary>
    public long Offers => Interlocked.Read(ref _offers);

    /// <summary>ACKs sent (leases granted or extended, and answers to INFORM).</summary>
    public long Acks => Interlocked.Read(ref _acks);

    /// <summary>NAKs sent.</summary>
    public long Naks => Interlocked.Read(ref _naks);

    /// <summary>Leases released.</summary>
    public long Releases => Interlocked.Read(ref _releases);

    /// <summary>Addresses declined.</summary>
    public long Declines => Interlocked.Read(ref _declines);

    /// <summary>INFORMs answered.</summary>
    public long Informs => Interlocked.Read(ref _informs);

    /// <summary>Lease file writes that failed.</summary>
    public long SaveFailures => Interlocked.Read(ref _saveFailures);

    /// <summary>Datagrams dropped, all reasons.</summary>
    public long Dropped => _dropped.Total;

    /// <summary>Datagrams dropped for <paramref name="reason"/>.</summary>
    public long GetDropped(DhcpDropReason reason) => _dropped.Get(reason);

    internal void CountReceived() => Interlocked.Increment(ref _received);

    internal void CountOffer() => Interlocked.Increment(ref _offers);

    internal void CountAck() => Interlocked.Increment(ref _acks);

    internal void CountNak() => Interlocked.Increment(ref _naks);

    internal void CountRelease() => Interlocked.Increment(ref _releases);

    internal void CountDecline() => Interlocked.Increment(ref _declines);

    internal void CountInform() => Interlocked.Increment(ref _informs);

    internal void CountSaveFailure() => Interlocked.Increment(ref _saveFailures);

    internal void CountDropped(DhcpDropReason reason) => _dropped.Count(reason);
}
