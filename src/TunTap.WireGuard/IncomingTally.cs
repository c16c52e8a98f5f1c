namespace TunTap.WireGuard;

/// <summary>
/// What the receive loop tells peers and counters once per receive batch instead of once per
/// packet: per peer the bytes of its authenticated messages and how many carried data (for its
/// byte counter and timers), and the packets accepted for the device counter. The batch's clock
/// reading is kept here too. One receive loop owns it; nothing is allocated after construction.
/// </summary>
internal sealed class IncomingTally(WireGuardCounters counters)
{
    private const int MaxPeers = 16;

    private readonly WireGuardPeer?[] _peers = new WireGuardPeer?[MaxPeers];
    private readonly int[] _bytes = new int[MaxPeers];
    private readonly int[] _dataPackets = new int[MaxPeers];
    private int _peerCount;
    private int _accepted;

    /// <summary>The clock (<see cref="TimeProvider.GetTimestamp"/>) when the batch was received.</summary>
    public long Now { get; set; }

    /// <summary>An authenticated transport message of <paramref name="bytes"/> from <paramref name="peer"/>; <paramref name="isData"/> false for a keepalive.</summary>
    public void AddAuthenticated(WireGuardPeer peer, int bytes, bool isData)
    {
        var slot = 0;
        while (slot < _peerCount && !ReferenceEquals(_peers[slot], peer))
        {
            slot++;
        }

        if (slot == MaxPeers)
        {
            Flush();
            slot = 0;
        }

        if (slot == _peerCount)
        {
            _peers[slot] = peer;
            _bytes[slot] = 0;
            _dataPackets[slot] = 0;
            _peerCount++;
        }

        _bytes[slot] += bytes;
        _dataPackets[slot] += isData ? 1 : 0;
    }

    /// <summary>A decrypted packet passed the allowed-IPs check and goes to the device.</summary>
    public void AddAccepted() => _accepted++;

    /// <summary>Reports everything tallied (in the order the per-packet calls had) and starts over.</summary>
    public void Flush()
    {
        for (var p = 0; p < _peerCount; p++)
        {
            var peer = _peers[p]!;
            peer.AddReceived(_bytes[p]);
            peer.Timers.OnAnyAuthenticatedPacketReceived();
            peer.Timers.OnAnyAuthenticatedPacketTraversal();
            if (_dataPackets[p] > 0)
            {
                peer.Timers.OnDataReceived(_dataPackets[p]);
            }
        }

        Array.Clear(_peers, 0, _peerCount);
        _peerCount = 0;
        if (_accepted > 0)
        {
            counters.DataReceived(_accepted);
            _accepted = 0;
        }
    }
}
