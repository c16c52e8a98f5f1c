using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TunTap.Devices;
using TunTap.WireGuard.Uapi;

namespace TunTap.WireGuard;

/// <summary>
/// A WireGuard interface configured the way <c>wg</c> configures wireguard-go: it starts with no
/// keys and no peers, and UAPI requests (<see cref="ApplyAsync"/>, <see cref="GetConfiguration"/>)
/// change and read it. It holds the configuration and runs a <see cref="WireGuardDevice"/> for it
/// once there is a private key. Peer changes and a new listen port are made to the live device
/// (sessions survive); a new private key replaces the device (sessions and counters start over).
/// </summary>
public sealed class WireGuardInterface : IAsyncDisposable
{
    private readonly ITunDevice _tun;
    private readonly WireGuardInterfaceOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<WireGuardKey, PeerConfiguration> _peers = [];
    private WireGuardKey _privateKey;
    private uint _firewallMark;
    private IUdpTransport? _udp;
    private WireGuardDevice? _device;
    private bool _disposed;

    /// <summary>An interface on <paramref name="tun"/> (not disposed with it), with no keys yet.</summary>
    public WireGuardInterface(ITunDevice tun, WireGuardInterfaceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tun);
        _tun = tun;
        _options = options ?? new WireGuardInterfaceOptions();
    }

    /// <summary>The device name.</summary>
    public string Name => _tun.Name;

    /// <summary>The running device, or null while there is no private key.</summary>
    public WireGuardDevice? Device => _device;

    /// <summary>The UDP port bound, or 0 before the first bind.</summary>
    public int ListenPort => _udp?.Port ?? 0;

    /// <summary>Binds the UDP socket on a free port (wireguard-go does this when the interface comes up).</summary>
    public async Task StartAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _udp ??= _options.BindTransport(0);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Applies a whole <c>set=1</c> request; nothing changes unless it all can.</summary>
    /// <returns>A <see cref="UapiErrno"/> code.</returns>
    public async Task<int> ApplyAsync(UapiSetRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return await ApplyLockedAsync(request).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TunTapException or SocketException or ArgumentException or InvalidOperationException)
        {
            // Not expected after validation (e.g. binding a free port failed): report it the way wireguard-go reports the unexpected.
            return UapiErrno.Unknown;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The body of a <c>get=1</c> reply (every line ends in a newline; no errno line).</summary>
    public string GetConfiguration()
    {
        _gate.Wait();
        try
        {
            return FormatLocked();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops the device and closes the UDP socket (the TUN device is left to its owner).</summary>
    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (_device is not null)
            {
                await _device.DisposeAsync().ConfigureAwait(false);
                _device = null;
            }

            if (_udp is not null)
            {
                await _udp.DisposeAsync().ConfigureAwait(false);
                _udp = null;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<int> ApplyLockedAsync(UapiSetRequest request)
    {
        // The only step that can fail goes first, so a failed request changes nothing.
        IUdpTransport? rebound = null;
        if (request.ListenPort is { } port && (_udp is null || port == 0 || port != _udp.Port))
        {
            try
            {
                rebound = _options.BindTransport(port);
            }
            catch (SocketException)
            {
                return UapiErrno.PortInUse;
            }
        }

        var markChanged = request.FirewallMark is { } mark && mark != _firewallMark;
        if (request.FirewallMark is { } newMark)
        {
            _firewallMark = newMark;
        }

        var keyChanged = request.PrivateKey is { } key && key != _privateKey;
        if (request.PrivateKey is { } newKey)
        {
            _privateKey = newKey;
        }

        var changed = new HashSet<WireGuardKey>();
        var removed = new List<WireGuardKey>();
        if (request.ReplacePeers)
        {
            removed.AddRange(_peers.Keys);
            _peers.Clear();
        }

        foreach (var change in request.Peers)
        {
            ApplyPeerChange(change, changed, removed);
        }

        if (keyChanged || _device is null)
        {
            await RebuildAsync(rebound).ConfigureAwait(false);
        }
        else
        {
            if (rebound is not null)
            {
                // A new port keeps the sessions, as in wireguard-go.
                var old = _udp;
                await _device.ReplaceTransportAsync(rebound).ConfigureAwait(false);
                _udp = rebound;
                if (old is not null)
                {
                    await old.DisposeAsync().ConfigureAwait(false);
                }
            }

            UpdateLiveDevice(_device, changed, removed);
        }

        if ((markChanged || (rebound is not null && _firewallMark != 0)) && _udp is UdpSocketTransport socket)
        {
            try
            {
                socket.SetFirewallMark(_firewallMark);
            }
            catch (SocketException)
            {
                return UapiErrno.Invalid;
            }
        }

        return UapiErrno.None;
    }

    private void ApplyPeerChange(UapiPeerChange change, HashSet<WireGuardKey> changed, List<WireGuardKey> removed)
    {
        var exists = _peers.TryGetValue(change.PublicKey, out var peer);
        if (change.Remove)
        {
            if (exists)
            {
                _peers.Remove(change.PublicKey);
                removed.Add(change.PublicKey);
                changed.Remove(change.PublicKey);
            }

            return;
        }

        if (!exists)
        {
            if (change.UpdateOnly)
            {
                return;
            }

            peer = new PeerConfiguration(change.PublicKey);
            _peers.Add(change.PublicKey, peer);
        }

        changed.Add(change.PublicKey);
        if (change.PresharedKey is { } psk)
        {
            peer!.PresharedKey = psk;
        }

        if (change.Endpoint is { } endpoint)
        {
            peer!.Endpoint = endpoint;
            peer.EndpointChanged = true;
        }

        if (change.PersistentKeepalive is { } keepalive)
        {
            peer!.PersistentKeepalive = keepalive;
        }

        if (change.ReplaceAllowedIps)
        {
            peer!.AllowedIps.Clear();
        }

        foreach (var network in change.AllowedIps)
        {
            // A prefix belongs to one peer: it moves from whichever peer had it.
            foreach (var other in _peers.Values)
            {
                if (other.AllowedIps.Remove(network) && !ReferenceEquals(other, peer))
                {
                    changed.Add(other.PublicKey);
                }
            }

            peer!.AllowedIps.Add(network);
        }
    }

    private void UpdateLiveDevice(WireGuardDevice device, HashSet<WireGuardKey> changed, List<WireGuardKey> removed)
    {
        foreach (var key in removed)
        {
            device.RemovePeer(key);
            if (_peers.TryGetValue(key, out var readded))
            {
                readded.Live = null;
                changed.Add(key);
            }
        }

        foreach (var key in changed)
        {
            var peer = _peers[key];
            if (peer.Live is null)
            {
                AddToDevice(device, peer);
            }
            else
            {
                device.ReconfigurePeer(peer.Live, peer.PresharedKey, peer.EndpointChanged ? peer.Endpoint : null, peer.PersistentKeepalive, peer.AllowedIps);
            }

            peer.EndpointChanged = false;
        }
    }

    private async Task RebuildAsync(IUdpTransport? rebound)
    {
        if (_device is not null)
        {
            await _device.DisposeAsync().ConfigureAwait(false);
            _device = null;
        }

        if (rebound is not null)
        {
            if (_udp is not null)
            {
                await _udp.DisposeAsync().ConfigureAwait(false);
            }

            _udp = rebound;
        }

        _udp ??= _options.BindTransport(0);
        foreach (var peer in _peers.Values)
        {
            peer.Live = null;
            peer.EndpointChanged = false;
        }

        if (_privateKey.IsZero)
        {
            return;
        }

        // Like wireguard-go: a peer with the interface's own public key is dropped when the key is set.
        _peers.Remove(_privateKey.DerivePublicKey());
        var device = new WireGuardDevice(_tun, _udp, new WireGuardDeviceOptions
        {
            PrivateKey = _privateKey,
            Mtu = _options.Mtu,
            TimeProvider = _options.TimeProvider,
        });
        foreach (var peer in _peers.Values)
        {
            AddToDevice(device, peer);
        }

        device.Start();
        _device = device;
    }

    private static void AddToDevice(WireGuardDevice device, PeerConfiguration peer)
    {
        if (peer.PublicKey == device.PublicKey)
        {
            // wireguard-go ignores a peer with the interface's own key; so do we.
            return;
        }

        peer.Live = device.AddPeer(new WireGuardPeerOptions
        {
            PublicKey = peer.PublicKey,
            PresharedKey = peer.PresharedKey,
            Endpoint = peer.Endpoint,
            AllowedIps = [.. peer.AllowedIps],
            PersistentKeepalive = peer.PersistentKeepalive,
        });
    }

    private string FormatLocked()
    {
        var text = new StringBuilder();
        var invariant = CultureInfo.InvariantCulture;
        if (!_privateKey.IsZero)
        {
            text.Append(invariant, $"private_key={_privateKey.ToHex()}\n");
        }

        if (_udp is not null)
        {
            text.Append(invariant, $"listen_port={_udp.Port}\n");
        }

        if (_firewallMark != 0)
        {
            text.Append(invariant, $"fwmark={_firewallMark}\n");
        }

        foreach (var peer in _peers.Values)
        {
            text.Append(invariant, $"public_key={peer.PublicKey.ToHex()}\n");
            text.Append(invariant, $"preshared_key={peer.PresharedKey.ToHex()}\n");
            text.Append("protocol_version=1\n");
            var live = peer.Live;
            if ((live?.Endpoint ?? peer.Endpoint) is { } endpoint)
            {
                text.Append(invariant, $"endpoint={FormatEndpoint(endpoint)}\n");
            }

            var (seconds, nanoseconds) = live?.LastHandshake is { } handshake ? SplitUnixTime(handshake) : (0L, 0L);
            text.Append(invariant, $"last_handshake_time_sec={seconds}\n");
            text.Append(invariant, $"last_handshake_time_nsec={nanoseconds}\n");
            text.Append(invariant, $"tx_bytes={live?.SentBytes ?? 0}\n");
            text.Append(invariant, $"rx_bytes={live?.ReceivedBytes ?? 0}\n");
            text.Append(invariant, $"persistent_keepalive_interval={(int)peer.PersistentKeepalive.TotalSeconds}\n");
            foreach (var network in peer.AllowedIps)
            {
                text.Append(invariant, $"allowed_ip={network}\n");
            }
        }

        return text.ToString();
    }

    private static string FormatEndpoint(IPEndPoint endpoint)
    {
        var address = endpoint.Address.IsIPv4MappedToIPv6 ? endpoint.Address.MapToIPv4() : endpoint.Address;
        return new IPEndPoint(address, endpoint.Port).ToString();
    }

    private static (long Seconds, long Nanoseconds) SplitUnixTime(DateTimeOffset time)
    {
        var ticks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        return (ticks / TimeSpan.TicksPerSecond, ticks % TimeSpan.TicksPerSecond * 100);
    }

    private sealed class PeerConfiguration(WireGuardKey publicKey)
    {
        public WireGuardKey PublicKey { get; } = publicKey;

        public WireGuardKey PresharedKey { get; set; }

        public IPEndPoint? Endpoint { get; set; }

        public bool EndpointChanged { get; set; }

        public TimeSpan PersistentKeepalive { get; set; }

        public List<IPNetwork> AllowedIps { get; } = [];

        public WireGuardPeer? Live { get; set; }
    }
}
