using System.Net;

namespace TunTap.WireGuard.Uapi;

/// <summary>One peer section of a UAPI <c>set=1</c> request: what to change, nothing applied yet.</summary>
public sealed class UapiPeerChange
{
    internal UapiPeerChange(WireGuardKey publicKey) => PublicKey = publicKey;

    /// <summary>The peer (<c>public_key</c>).</summary>
    public WireGuardKey PublicKey { get; }

    /// <summary><c>remove=true</c>: delete the peer.</summary>
    public bool Remove { get; internal set; }

    /// <summary><c>update_only=true</c>: change the peer only if it exists already.</summary>
    public bool UpdateOnly { get; internal set; }

    /// <summary><c>preshared_key</c> (all zeros: none), or null to leave it.</summary>
    public WireGuardKey? PresharedKey { get; internal set; }

    /// <summary><c>endpoint</c>, or null to leave it.</summary>
    public IPEndPoint? Endpoint { get; internal set; }

    /// <summary><c>persistent_keepalive_interval</c> (zero: off), or null to leave it.</summary>
    public TimeSpan? PersistentKeepalive { get; internal set; }

    /// <summary><c>replace_allowed_ips=true</c>: drop the peer's allowed IPs before adding <see cref="AllowedIps"/>.</summary>
    public bool ReplaceAllowedIps { get; internal set; }

    /// <summary><c>allowed_ip</c> lines, host bits cleared.</summary>
    public IList<IPNetwork> AllowedIps { get; } = [];
}
