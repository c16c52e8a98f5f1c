namespace TunTap.WireGuard.Messages;

/// <summary>The first byte of every WireGuard message (followed by three reserved zero bytes).</summary>
public enum MessageType : byte
{
    /// <summary>Not a WireGuard message.</summary>
    None = 0,

    /// <summary>First handshake message, initiator to responder (148 bytes).</summary>
    HandshakeInitiation = 1,

    /// <summary>Second handshake message, responder to initiator (92 bytes).</summary>
    HandshakeResponse = 2,

    /// <summary>An encrypted cookie sent by a responder under load (64 bytes).</summary>
    CookieReply = 3,

    /// <summary>An encrypted IP packet (16-byte header, packet, 16-byte tag).</summary>
    TransportData = 4,
}
