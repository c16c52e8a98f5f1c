using TunTap.Services;

namespace TunTap.Tunnel;

/// <summary>
/// Live counters of a <see cref="TunnelEndpoint"/>. Written by its loops with interlocked
/// operations; any thread may read them at any time.
/// </summary>
public sealed class TunnelCounters
{
    private readonly DropCounters<TunnelDropReason> _dropped = new();
    private long _txPackets;
    private long _txBytes;
    private long _txWireBytes;
    private long _rxPackets;
    private long _rxBytes;
    private long _rxWireBytes;
    private long _txOffloadPackets;
    private long _rxOffloadPackets;
    private long _segmentedPackets;
    private long _reconnects;
    private long _connections;
    private volatile string? _peer;

    /// <summary>Packets read from the device and sent to the peer (a super packet counts once, however it was cut; one dropped as malformed does not count).</summary>
    public long TxPackets => Interlocked.Read(ref _txPackets);

    /// <summary>Bytes of those packets (before compression).</summary>
    public long TxBytes => Interlocked.Read(ref _txBytes);

    /// <summary>Bytes put on the socket for them (frame headers and compression included).</summary>
    public long TxWireBytes => Interlocked.Read(ref _txWireBytes);

    /// <summary>Packets received from the peer and written to the device (segments merged into one super packet count one each).</summary>
    public long RxPackets => Interlocked.Read(ref _rxPackets);

    /// <summary>Bytes of those packets (after decompression).</summary>
    public long RxBytes => Interlocked.Read(ref _rxBytes);

    /// <summary>Bytes of data frames received from the socket (headers and compression included).</summary>
    public long RxWireBytes => Interlocked.Read(ref _rxWireBytes);

    /// <summary>Super packets (TCP segmentation offload, up to 64 KiB) read from the device; each is one of <see cref="TxPackets"/>.</summary>
    public long TxOffloadPackets => Interlocked.Read(ref _txOffloadPackets);

    /// <summary>Super packets written to the device: received whole, or merged here from several of <see cref="RxPackets"/>.</summary>
    public long RxOffloadPackets => Interlocked.Read(ref _rxOffloadPackets);

    /// <summary>Super packets this end cut into MTU-sized packets itself (UDP, or a peer without offloads).</summary>
    public long SegmentedPackets => Interlocked.Read(ref _segmentedPackets);

    /// <summary>Peers that completed the hello after the first one (client reconnects, replacement clients).</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Peers that completed the hello, the first one included.</summary>
    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>All drops, every reason.</summary>
    public long Dropped => _dropped.Total;

    /// <summary>Whether a peer is connected now.</summary>
    public bool IsConnected => _peer is not null;

    /// <summary>The connected peer's address, or null while the link is down.</summary>
    public string? Peer => _peer;

    /// <summary>Drops for one reason.</summary>
    public long GetDropped(TunnelDropReason reason) => _dropped.Get(reason);

    internal void AddTx(long packets, long bytes, long wireBytes)
    {
        Interlocked.Add(ref _txPackets, packets);
        Interlocked.Add(ref _txBytes, bytes);
        Interlocked.Add(ref _txWireBytes, wireBytes);
    }

    internal void AddRx(long packets, long bytes)
    {
        Interlocked.Add(ref _rxPackets, packets);
        Interlocked.Add(ref _rxBytes, bytes);
    }

    internal void AddTxOffload(long packets) => Interlocked.Add(ref _txOffloadPackets, packets);

    internal void AddRxOffload(long packets) => Interlocked.Add(ref _rxOffloadPackets, packets);

    internal void AddSegmented(long packets) => Interlocked.Add(ref _segmentedPackets, packets);

    internal void AddRxWire(long wireBytes) => Interlocked.Add(ref _rxWireBytes, wireBytes);

    internal void AddDropped(TunnelDropReason reason, long count = 1) => _dropped.Count(reason, count);

    internal void Connected(string peer)
    {
        if (Interlocked.Increment(ref _connections) > 1)
        {
            Interlocked.Increment(ref _reconnects);
        }

        _peer = peer;
    }

    internal void Disconnected() => _peer = null;
}
