using System.Net;
using TunTap.WireGuard.Transport;

namespace TunTap.WireGuard;

/// <summary>
/// What the TUN reader collects from one device batch before sending it: the encrypted datagrams
/// (a <see cref="UdpSendBatch"/>, in the order their counters were claimed), an arena that super
/// packets are cut into, and per peer the totals the timers and byte counters hear about once per
/// batch instead of once per packet. One reader owns it; nothing is allocated after construction.
/// </summary>
internal sealed class OutgoingBatch
{
    private const int MaxPeersPerBatch = 16;

    private readonly WireGuardPeer?[] _peers = new WireGuardPeer?[MaxPeersPerBatch];
    private readonly int[] _bytes = new int[MaxPeersPerBatch];
    private readonly bool[] _data = new bool[MaxPeersPerBatch];
    private int _peerCount;

    private readonly Keypair?[] _keypairs;
    private readonly ulong[] _counters;

    public OutgoingBatch(int datagrams, int arenaSize)
    {
        Datagrams = new UdpSendBatch(datagrams);
        _keypairs = new Keypair?[datagrams];
        _counters = new ulong[datagrams];
        Arena = arenaSize > 0 ? PinnedBufferPool.Instance.Rent(arenaSize) : [];
    }

    /// <summary>The datagrams to send.</summary>
    public UdpSendBatch Datagrams { get; }

    /// <summary>Where super packets are segmented (pinned).</summary>
    public byte[] Arena { get; }

    /// <summary>Bytes of <see cref="Arena"/> in use.</summary>
    public int ArenaUsed { get; set; }

    /// <summary>Peers with datagrams in this batch.</summary>
    public int PeerCount => _peerCount;

    /// <summary>False when <paramref name="peer"/> is new and the per-peer table is full (the caller sends first).</summary>
    public bool CanAdd(WireGuardPeer peer)
    {
        if (Datagrams.IsFull)
        {
            return false;
        }

        for (var i = 0; i < _peerCount; i++)
        {
            if (ReferenceEquals(_peers[i], peer))
            {
                return true;
            }
        }

        return _peerCount < MaxPeersPerBatch;
    }

    /// <summary>
    /// Appends a datagram of <paramref name="peer"/> laid out for encryption with
    /// <paramref name="keypair"/> and <paramref name="counter"/> (see <see cref="EncryptRange"/>);
    /// <paramref name="isData"/> is false for keepalives.
    /// </summary>
    public void Add(WireGuardPeer peer, byte[] buffer, int offset, int length, SocketAddress endpoint, bool isData, Keypair keypair, ulong counter)
    {
        _keypairs[Datagrams.Count] = keypair;
        _counters[Datagrams.Count] = counter;
        Datagrams.Add(buffer, offset, length, endpoint);
        var slot = 0;
        while (slot < _peerCount && !ReferenceEquals(_peers[slot], peer))
        {
            slot++;
        }

        if (slot == _peerCount)
        {
            _peers[slot] = peer;
            _bytes[slot] = 0;
            _data[slot] = false;
            _peerCount++;
        }

        _bytes[slot] += length;
        _data[slot] |= isData;
    }

    /// <summary>Peer <paramref name="index"/> of this batch, its bytes and whether it sent data.</summary>
    public WireGuardPeer GetPeer(int index, out int bytes, out bool isData)
    {
        bytes = _bytes[index];
        isData = _data[index];
        return _peers[index]!;
    }

    /// <summary>
    /// Encrypts datagrams <paramref name="start"/> to <paramref name="end"/> (exclusive) in place
    /// with the ciphers of <paramref name="lane"/>: ranges may run on different threads, each with its own lane.
    /// </summary>
    public void EncryptRange(int lane, int start, int end)
    {
        for (var i = start; i < end; i++)
        {
            var datagram = Datagrams.GetArray(i).AsSpan(Datagrams.GetOffset(i), Datagrams.GetLength(i));
            WireGuardDevice.EncryptPrepared(lane, _keypairs[i]!, _counters[i], datagram);
        }
    }

    /// <summary>
    /// Empties the batch of datagrams and peers once they are sent. The arena is left as it is: a
    /// super packet may be half queued (its other segments still wait in the arena); the reader
    /// resets <see cref="ArenaUsed"/> when nothing in it is pending.
    /// </summary>
    public void Clear()
    {
        Array.Clear(_keypairs, 0, Datagrams.Count);
        Datagrams.Clear();
        Array.Clear(_peers, 0, _peerCount);
        _peerCount = 0;
    }
}
