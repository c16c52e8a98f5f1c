namespace TunTap.WireGuard.Timers;

/// <summary>What <see cref="PeerTimers"/> asks the device to do when a timer expires.</summary>
public interface IPeerTimerActions
{
    /// <summary>Send a handshake initiation; <paramref name="isRetry"/> when it retransmits an unanswered one.</summary>
    void SendHandshakeInitiation(bool isRetry);

    /// <summary>Send an empty transport message (keepalive).</summary>
    void SendKeepalive();

    /// <summary>Retries are exhausted: drop packets waiting for a handshake.</summary>
    void HandshakeFailed();

    /// <summary>No handshake for 3 × RejectAfterTime: wipe keypairs and handshake state.</summary>
    void ZeroKeyMaterial();
}
