namespace TunTap.WireGuard.Uapi;

/// <summary>A parsed UAPI <c>set=1</c> request, applied as a whole by <see cref="WireGuardInterface.ApplyAsync"/>.</summary>
public sealed class UapiSetRequest
{
    /// <summary><c>private_key</c> (all zeros: remove it), or null to leave it.</summary>
    public WireGuardKey? PrivateKey { get; internal set; }

    /// <summary><c>listen_port</c> (0: any free port), or null to leave it.</summary>
    public int? ListenPort { get; internal set; }

    /// <summary><c>fwmark</c> (0: none), or null to leave it.</summary>
    public uint? FirewallMark { get; internal set; }

    /// <summary><c>replace_peers=true</c>: remove every peer before applying <see cref="Peers"/>.</summary>
    public bool ReplacePeers { get; internal set; }

    /// <summary>The peer sections, in order.</summary>
    public IList<UapiPeerChange> Peers { get; } = [];
}
