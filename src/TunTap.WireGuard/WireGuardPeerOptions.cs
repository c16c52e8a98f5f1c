using System.Net;

namespace TunTap.WireGuard;

/// <summary>A peer's configuration (what <c>wg</c> calls a peer section).</summary>
public sealed class WireGuardPeerOptions
{
    /// <summary>The peer's public key.</summary>
    public required WireGuardKey PublicKey { get; init; }

    /// <summary>Optional preshared key mixed into the handshake (zero: none).</summary>
    public WireGuardKey PresharedKey { get; init; }

    /// <summary>Where to send to the peer until it is heard from elsewhere (roaming); null: wait to be contacted.</summary>
    public IPEndPoint? Endpoint { get; init; }

    /// <summary>Networks routed to the peer, and accepted as source addresses from it.</summary>
    public IReadOnlyList<IPNetwork> AllowedIps { get; init; } = [];

    /// <summary>Send a keepalive after this much silence (zero: off), e.g. to hold NAT mappings open.</summary>
    public TimeSpan PersistentKeepalive { get; init; }
}
