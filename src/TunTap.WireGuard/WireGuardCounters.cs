namespace TunTap.WireGuard;

/// <summary>Live counters of a <see cref="WireGuardDevice"/>. Reads are atomic; values only grow.</summary>
public sealed class WireGuardCounters
{
    private long _handshakeInitiationsSent;
    private long _handshakeResponsesSent;
    private long _cookieRepliesSent;
    private long _handshakesCompleted;
    private long _dataPacketsSent;
    private long _dataPacketsReceived;
    private long _keepalivesReceived;
    private long _dropped;
    private long _droppedNoRoute;
    private long _droppedInvalidMessage;
    private long _droppedReplay;
    private long _droppedSourceNotAllowed;

    /// <summary>Initiations sent.</summary>
    public long HandshakeInitiationsSent => Interlocked.Read(ref _handshakeInitiationsSent);

    /// <summary>Responses sent.</summary>
    public long HandshakeResponsesSent => Interlocked.Read(ref _handshakeResponsesSent);

    /// <summary>Cookie replies sent (under load).</summary>
    public long CookieRepliesSent => Interlocked.Read(ref _cookieRepliesSent);

    /// <summary>Handshakes that produced keys, as initiator or responder.</summary>
    public long HandshakesCompleted => Interlocked.Read(ref _handshakesCompleted);

    /// <summary>Transport messages sent, keepalives included.</summary>
    public long DataPacketsSent => Interlocked.Read(ref _dataPacketsSent);

    /// <summary>Packets decrypted and written to the TUN device.</summary>
    public long DataPacketsReceived => Interlocked.Read(ref _dataPacketsReceived);

    /// <summary>Keepalives received.</summary>
    public long KeepalivesReceived => Interlocked.Read(ref _keepalivesReceived);

    /// <summary>All dropped packets and messages.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Outgoing packets with no peer for their destination.</summary>
    public long DroppedNoRoute => Interlocked.Read(ref _droppedNoRoute);

    /// <summary>Incoming messages that were malformed, unauthentic or for unknown indexes.</summary>
    public long DroppedInvalidMessage => Interlocked.Read(ref _droppedInvalidMessage);

    /// <summary>Incoming transport messages replayed or too old.</summary>
    public long DroppedReplay => Interlocked.Read(ref _droppedReplay);

    /// <summary>Decrypted packets whose source address is not among the peer's allowed IPs.</summary>
    public long DroppedSourceNotAllowed => Interlocked.Read(ref _droppedSourceNotAllowed);

    internal void InitiationSent() => Interlocked.Increment(ref _handshakeInitiationsSent);

    internal void ResponseSent() => Interlocked.Increment(ref _handshakeResponsesSent);

    internal void CookieReplySent() => Interlocked.Increment(ref _cookieRepliesSent);

    internal void HandshakeCompleted() => Interlocked.Increment(ref _handshakesCompleted);

    internal void DataSent() => Interlocked.Increment(ref _dataPacketsSent);

    internal void DataSent(int count) => Interlocked.Add(ref _dataPacketsSent, count);

    internal void DataReceived() => Interlocked.Increment(ref _dataPacketsReceived);

    internal void DataReceived(int count) => Interlocked.Add(ref _dataPacketsReceived, count);

    internal void KeepaliveReceived() => Interlocked.Increment(ref _keepalivesReceived);

    internal void DropOther() => Interlocked.Increment(ref _dropped);

    internal void DropOther(int count) => Interlocked.Add(ref _dropped, count);

    internal void DropNoRoute()
    {
        Interlocked.Increment(ref _droppedNoRoute);
        DropOther();
    }

    internal void DropInvalid()
    {
        Interlocked.Increment(ref _droppedInvalidMessage);
        DropOther();
    }

    internal void DropReplay()
    {
        Interlocked.Increment(ref _droppedReplay);
        DropOther();
    }

    internal void DropSourceNotAllowed()
    {
        Interlocked.Increment(ref _droppedSourceNotAllowed);
        DropOther();
    }
}
