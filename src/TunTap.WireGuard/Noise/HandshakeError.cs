namespace TunTap.WireGuard.Noise;

/// <summary>Why a handshake message was not accepted (for drop counters and tests).</summary>
public enum HandshakeError
{
    /// <summary>Accepted.</summary>
    None,

    /// <summary>A Diffie-Hellman result was zero (low-order key).</summary>
    InvalidKey,

    /// <summary>An AEAD field did not authenticate.</summary>
    DecryptionFailed,

    /// <summary>The initiator's static key is not a configured peer.</summary>
    UnknownPeer,

    /// <summary>The initiation's timestamp is not newer than the last accepted one.</summary>
    Replay,

    /// <summary>An initiation from this peer was accepted less than 20 ms ago.</summary>
    Flood,

    /// <summary>The message does not fit the handshake's stage (e.g. an unexpected response).</summary>
    WrongStage,
}
