namespace TunTap.WireGuard.Noise;

/// <summary>Where a peer's handshake stands.</summary>
public enum HandshakeStage
{
    /// <summary>No handshake in progress (state wiped).</summary>
    Zeroed,

    /// <summary>We sent an initiation and wait for the response.</summary>
    InitiationCreated,

    /// <summary>We accepted the peer's initiation and owe a response.</summary>
    InitiationConsumed,

    /// <summary>We sent the response: keys can be derived (responder side).</summary>
    ResponseCreated,

    /// <summary>We accepted the response: keys can be derived (initiator side).</summary>
    ResponseConsumed,
}
