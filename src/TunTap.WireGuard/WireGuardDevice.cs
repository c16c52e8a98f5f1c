using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using TunTap.Devices;
using TunTap.WireGuard.Crypto;
using TunTap.WireGuard.Messages;
using TunTap.WireGuard.Noise;
using TunTap.WireGuard.Routing;
using TunTap.WireGuard.Timers;
using TunTap.WireGuard.Transport;

namespace TunTap.WireGuard;

/// <summary>
/// A WireGuard interface in userspace: IP packets read from an <see cref="ITunDevice"/> are routed
/// by allowed IPs to a peer, encrypted in place and sent over an <see cref="IUdpTransport"/>;
/// datagrams received are handshakes (answered here) or transport data, decrypted in place,
/// checked against the sender's allowed IPs and written to the device. Two loops do the I/O
/// (<c>RoutineReadFromTun</c>, <c>RoutineReceiveIncoming</c>); timers drive keepalives, rekeying
/// and retransmission. Packet buffers are rented once; steady-state traffic allocates nothing.
/// </summary>
public sealed partial class WireGuardDevice : IAsyncDisposable
{
    /// <summary>Packets queued per peer while it has no keys.</summary>
    public const int MaxStagedPackets = 128;

    private const int HeaderRoom = TransportDataMessage.HeaderSize;

    private readonly ITunDevice _tun;
    private IUdpTransport _udp;
    private readonly WireGuardDeviceOptions _options;
    private readonly NoiseIdentity _identity;
    private readonly CookieChecker _cookieChecker;
    private readonly TimeProvider _time;
    private readonly Lock _handshakeLock = new();
    private readonly Lock _configLock = new();
    private readonly Lock _indexLock = new();
    private readonly Dictionary<WireGuardKey, WireGuardPeer> _peers = [];
    private readonly AllowedIpsTrie<WireGuardPeer> _allowedIps = new();
    private readonly Dictionary<uint, IndexEntry> _indexes = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly int _bufferSize;
    private readonly bool _vnet;
    private readonly BatchEncryptor _sealer;
    private readonly Random _seeds;
    private Task? _tunLoop;
    private Task? _udpLoop;
    private CancellationTokenSource? _udpStop;
    // Lookups the receive loop reuses within one batch (only that loop touches them).
    private readonly byte[] _receiveSource = new byte[16];
    private int _receiveSourceLength = -1;
    private WireGuardPeer? _receiveSourcePeer;
    private uint _receiveIndex;
    private IndexEntry? _receiveIndexEntry;
    private long _loadWindowStart;
    private int _handshakesInWindow;
    private int _disposed;

    /// <summary>Creates the device; call <see cref="Start"/> to begin moving packets.</summary>
    public WireGuardDevice(ITunDevice tun, IUdpTransport udp, WireGuardDeviceOptions options)
    {
        ArgumentNullException.ThrowIfNull(tun);
        ArgumentNullException.ThrowIfNull(udp);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Mtu, 576);
        _tun = tun;
        _vnet = options.VnetHeader ?? tun is TunDevice { VnetHeader: true };
        _sealer = new BatchEncryptor(options.ParallelEncryption);
        _udp = udp;
        _options = options;
        _time = options.TimeProvider;
        _identity = new NoiseIdentity(options.PrivateKey);
        _cookieChecker = new CookieChecker(_identity, _time, options.Random);
        _seeds = new Random(options.JitterSeed);
        // Header in front, padding slack and tag behind the largest packet.
        _bufferSize = HeaderRoom + options.Mtu + 32 + TransportDataMessage.TagSize;
    }

    /// <summary>Our public key.</summary>
    public WireGuardKey PublicKey => _identity.PublicKey;

    /// <summary>The UDP port we listen on.</summary>
    public int ListenPort => _udp.Port;

    /// <summary>Live counters.</summary>
    public WireGuardCounters Counters { get; } = new();

    /// <summary>Adds a peer (its allowed IPs replace any other peer's identical prefixes).</summary>
    /// <exception cref="TunTapException">The peer exists already, or is our own key.</exception>
    public WireGuardPeer AddPeer(WireGuardPeerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.PublicKey == _identity.PublicKey)
        {
            throw new TunTapException("a peer cannot have the interface's own public key", "give the peer's public key (wg pubkey < peer.key)");
        }

        lock (_configLock)
        {
            if (_peers.ContainsKey(options.PublicKey))
            {
                throw new TunTapException($"peer {options.PublicKey} is already configured", "remove it first or change its settings");
            }

            var endpoint = options.Endpoint is null ? null : _udp.ToSocketAddress(options.Endpoint);
            var peer = new WireGuardPeer(this, options, _identity, endpoint, _time, _seeds.Next());
            _peers.Add(options.PublicKey, peer);
            foreach (var network in options.AllowedIps)
            {
                _allowedIps.Insert(network.BaseAddress, network.PrefixLength, peer);
            }

            return peer;
        }
    }

    /// <summary>Removes a peer, its routes and its keys; false when unknown.</summary>
    public bool RemovePeer(WireGuardKey publicKey)
    {
        WireGuardPeer? peer;
        lock (_configLock)
        {
            if (!_peers.Remove(publicKey, out peer))
            {
                return false;
            }

            _allowedIps.RemoveByPeer(peer);
        }

        peer.Dispose();
        ZeroKeyMaterial(peer);
        DropStaged(peer);
        return true;
    }

    /// <summary>
    /// Changes a live peer in place (its session survives): preshared key, endpoint when given,
    /// persistent keepalive, and its allowed IPs become exactly <paramref name="allowedIps"/>.
    /// </summary>
    internal void ReconfigurePeer(WireGuardPeer peer, WireGuardKey presharedKey, IPEndPoint? endpoint, TimeSpan persistentKeepalive, IReadOnlyList<IPNetwork> allowedIps)
    {
        lock (_handshakeLock)
        {
            peer.Handshake.SetPresharedKey(presharedKey);
        }

        lock (_configLock)
        {
            _allowedIps.RemoveByPeer(peer);
            foreach (var network in allowedIps)
            {
                _allowedIps.Insert(network.BaseAddress, network.PrefixLength, peer);
            }
        }

        if (endpoint is not null)
        {
            peer.UpdateEndpoint(_udp.ToSocketAddress(endpoint));
        }

        var wasOff = peer.Timers.PersistentKeepaliveInterval == TimeSpan.Zero;
        peer.Timers.PersistentKeepaliveInterval = persistentKeepalive;
        if (wasOff && persistentKeepalive > TimeSpan.Zero && _tunLoop is not null && peer.EndpointAddress is not null)
        {
            // Like wireguard-go: turning the keepalive on sends one now, so a NAT mapping opens at once.
            SendKeepalive(peer);
        }
    }

    /// <summary>
    /// Moves to another UDP transport (a new listen port) keeping peers and sessions, as wireguard-go
    /// does: the receive loop restarts on <paramref name="udp"/>; the caller disposes the old one.
    /// </summary>
    internal async Task ReplaceTransportAsync(IUdpTransport udp)
    {
        ArgumentNullException.ThrowIfNull(udp);
        if (_udpLoop is not null)
        {
            await _udpStop!.CancelAsync().ConfigureAwait(false);
            try
            {
                await _udpLoop.ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
            }

            _udpStop.Dispose();
        }

        Volatile.Write(ref _udp, udp);
        foreach (var peer in GetPeers())
        {
            if (peer.Endpoint is { } endpoint)
            {
                peer.UpdateEndpoint(udp.ToSocketAddress(endpoint));
            }
        }

        if (_udpLoop is not null)
        {
            StartReceiveLoop();
        }
    }

    // Each loop gets its own thread: it blocks in poll() between batches rather than hop through the pool.
    private static Task StartLoop(Func<Task> loop) =>
        Task.Factory.StartNew(loop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    private void StartReceiveLoop()
    {
        _udpStop = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        var token = _udpStop.Token;
        _udpLoop = StartLoop(() => RoutineReceiveIncomingAsync(token));
    }

    /// <summary>The configured peers.</summary>
    public IReadOnlyList<WireGuardPeer> GetPeers()
    {
        lock (_configLock)
        {
            return [.. _peers.Values];
        }
    }

    /// <summary>The allowed IPs of <paramref name="peer"/>.</summary>
    public IReadOnlyList<IPNetwork> GetAllowedIps(WireGuardPeer peer)
    {
        lock (_configLock)
        {
            return _allowedIps.GetPrefixes(peer);
        }
    }

    /// <summary>Starts the TUN and UDP loops.</summary>
    public void Start()
    {
        if (_tunLoop is not null)
        {
            throw new InvalidOperationException("the device is already running");
        }

        _tunLoop = StartLoop(() => RoutineReadFromTunAsync(_stop.Token));
        StartReceiveLoop();
    }

    /// <summary>Starts a handshake with <paramref name="peer"/> now (normally traffic or timers do).</summary>
    public void Connect(WireGuardPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        BeginHandshake(peer, isRetry: false);
    }

    /// <summary>Stops the loops and timers and wipes keys. The TUN device and transport are not disposed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var loop in new[] { _tunLoop, _udpLoop })
        {
            if (loop is not null)
            {
                try
                {
                    await loop.ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or TunTapException or IOException or SocketException)
                {
                    // A loop that ended on a device error (e.g. the TUN device was deleted) has nothing left to stop.
                }
            }
        }

        foreach (var peer in GetPeers())
        {
            peer.Dispose();
            ZeroKeyMaterial(peer);
            DropStaged(peer);
        }

        _udpStop?.Dispose();
        _stop.Dispose();
        _sealer.Dispose();
    }

    private WireGuardPeer? RouteOutgoing(ReadOnlySpan<byte> packet)
    {
        var destination = IpAddressField(packet, source: false);
        if (destination.IsEmpty)
        {
            return null;
        }

        lock (_configLock)
        {
            return _allowedIps.Lookup(destination);
        }
    }

    // The source or destination address of an IPv4/IPv6 packet, empty when the header is short.
    private static ReadOnlySpan<byte> IpAddressField(ReadOnlySpan<byte> packet, bool source)
    {
        if (packet.Length >= 20 && packet[0] >> 4 == 4)
        {
            return packet.Slice(source ? 12 : 16, 4);
        }

        if (packet.Length >= 40 && packet[0] >> 4 == 6)
        {
            return packet.Slice(source ? 8 : 24, 16);
        }

        return [];
    }

    private static int IpPacketLength(ReadOnlySpan<byte> packet)
    {
        if (packet.Length >= 20 && packet[0] >> 4 == 4)
        {
            return BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        }

        if (packet.Length >= 40 && packet[0] >> 4 == 6)
        {
            return 40 + BinaryPrimitives.ReadUInt16BigEndian(packet[4..]);
        }

        return -1;
    }

    /// <summary>Encrypts the packet at <c>buffer[16..16+length]</c> in place and sends it; false when there are no usable keys.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> TrySendDataAsync(WireGuardPeer peer, byte[] buffer, int length, CancellationToken cancellationToken)
    {
        var datagram = Seal(peer, buffer, length, out var endpoint, out var needsRekey);
        if (datagram < 0)
        {
            BeginHandshake(peer, isRetry: false);
            return false;
        }

        if (needsRekey)
        {
            BeginHandshake(peer, isRetry: false);
        }

        try
        {
            await _udp.SendAsync(buffer.AsMemory(0, datagram), endpoint!, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException || (e is ObjectDisposedException && Volatile.Read(ref _disposed) == 0))
        {
            // A transport replaced under a send (listen port change) drops that one packet.
            Counters.DropOther();
            return true;
        }

        Counters.DataSent();
        peer.AddSent(datagram);
        peer.Timers.OnAnyAuthenticatedPacketSent();
        peer.Timers.OnAnyAuthenticatedPacketTraversal();
        if (length > 0)
        {
            peer.Timers.OnDataSent();
        }

        return true;
    }

    /// <summary>Encrypts the packet at <c>message[16..16+length]</c> in place, header in front, padding and tag behind; returns the datagram length, -1 without usable keys.</summary>
    private int Seal(WireGuardPeer peer, Span<byte> buffer, int length, out SocketAddress? endpoint, out bool needsRekey)
    {
        var datagram = PrepareSeal(peer, buffer, length, _time.GetTimestamp(), out endpoint, out needsRekey, out var keypair, out var counter);
        if (datagram >= 0)
        {
            var message = buffer[..datagram];
            keypair!.Send.Seal(counter, message[HeaderRoom..^TransportDataMessage.TagSize], message[^TransportDataMessage.TagSize..]);
        }

        return datagram;
    }

    /// <summary>
    /// The in-order half of <see cref="Seal"/>: claims the counter, writes the header and the zero
    /// padding; <see cref="EncryptPrepared"/> (any thread) finishes. Returns the datagram length, -1 without usable keys.
    /// </summary>
    private int PrepareSeal(WireGuardPeer peer, Span<byte> buffer, int length, long now, out SocketAddress? endpoint, out bool needsRekey, out Keypair? keypair, out ulong counter)
    {
        needsRekey = false;
        counter = 0;
        endpoint = peer.EndpointAddress;
        keypair = peer.Current;
        if (endpoint is null || keypair is null || _time.GetElapsedTime(keypair.CreatedTimestamp, now) >= WireGuardTimings.RejectAfterTime)
        {
            return -1;
        }

        if (!keypair.TryClaimCounter(out counter))
        {
            return -1;
        }

        var padded = TransportDataMessage.PaddedLength(length, _options.Mtu);
        buffer.Slice(HeaderRoom + length, padded - length).Clear();
        var message = TransportDataMessage.Create(buffer, padded, keypair.RemoteIndex, counter);
        needsRekey = keypair.IsInitiator &&
            (counter >= WireGuardTimings.RekeyAfterMessages || _time.GetElapsedTime(keypair.CreatedTimestamp, now) >= WireGuardTimings.RekeyAfterTime);
        return message.Buffer.Length;
    }

    /// <summary>Encrypts a datagram laid out by <see cref="PrepareSeal"/> in place, on the cipher of <paramref name="lane"/> (one thread per lane).</summary>
    internal static void EncryptPrepared(int lane, Keypair keypair, ulong counter, Span<byte> datagram) =>
        keypair.Send.Seal(lane, counter, datagram[HeaderRoom..^TransportDataMessage.TagSize], datagram[^TransportDataMessage.TagSize..]);

    /// <summary>
    /// Decrypts a transport message in place on the receive loop (its own cipher lane); returns the
    /// inner packet length (0: keepalive or dropped) and the peer whose keys it just confirmed.
    /// Byte counts, timers and the received counter go to <paramref name="tally"/>, told once per batch.
    /// </summary>
    private (int Length, WireGuardPeer? Confirmed) OpenData(Span<byte> datagram, SocketAddress remote, IncomingTally tally)
    {
        if (!TransportDataMessage.TryCreate(datagram, out var message))
        {
            Counters.DropInvalid();
            return (0, null);
        }

        var entry = FindReceiveIndex(message.ReceiverIndex);
        var keypair = entry?.Keypair;
        if (keypair is null || _time.GetElapsedTime(keypair.CreatedTimestamp, tally.Now) >= WireGuardTimings.RejectAfterTime)
        {
            Counters.DropInvalid();
            return (0, null);
        }

        var counter = message.Counter;
        if (!keypair.Receive.Open(TransportKey.ReceiveLane, counter, message.Payload, message.Tag))
        {
            Counters.DropInvalid();
            return (0, null);
        }

        if (!keypair.TryAcceptCounter(counter))
        {
            Counters.DropReplay();
            return (0, null);
        }

        var peer = entry!.Peer;
        peer.UpdateEndpoint(remote);
        WireGuardPeer? confirmed = null;
        var current = peer.Current;
        if (!keypair.IsInitiator && !ReferenceEquals(current, keypair) && peer.IsNext(keypair))
        {
            var retired = new List<Keypair>();
            if (peer.ConfirmKeypair(keypair, retired))
            {
                peer.Timers.OnHandshakeComplete();
                RemoveIndexes(retired);
                confirmed = peer;
            }
        }

        if (keypair.IsInitiator && ReferenceEquals(current, keypair) &&
            _time.GetElapsedTime(keypair.CreatedTimestamp, tally.Now) >= WireGuardTimings.RekeyOnReceiveAge)
        {
            BeginHandshake(peer, isRetry: false);
        }

        var payload = message.Payload;
        tally.AddAuthenticated(peer, datagram.Length, isData: payload.Length > 0);
        if (payload.Length == 0)
        {
            Counters.KeepaliveReceived();
            return (0, confirmed);
        }

        var length = IpPacketLength(payload);
        if (length <= 0 || length > payload.Length)
        {
            Counters.DropInvalid();
            return (0, confirmed);
        }

        if (!ReferenceEquals(FindAllowedSource(IpAddressField(payload[..length], source: true)), peer))
        {
            Counters.DropSourceNotAllowed();
            return (0, confirmed);
        }

        tally.AddAccepted();
        return (length, confirmed);
    }

    /// <summary>Forgets the receive loop's lookups of the previous batch (config and keys may have changed since).</summary>
    private void ResetReceiveLookups()
    {
        _receiveIndexEntry = null;
        _receiveSourceLength = -1;
        _receiveSourcePeer = null;
    }

    /// <summary>The index table entry for a receiver index; the receive loop's last answer is reused within a batch.</summary>
    private IndexEntry? FindReceiveIndex(uint index)
    {
        if (_receiveIndexEntry is { } cached && _receiveIndex == index)
        {
            return cached;
        }

        IndexEntry? entry;
        lock (_indexLock)
        {
            _indexes.TryGetValue(index, out entry);
        }

        _receiveIndex = index;
        _receiveIndexEntry = entry;
        return entry;
    }

    /// <summary>The peer whose allowed IPs hold a decrypted packet's source; the receive loop's last answer is reused within a batch.</summary>
    private WireGuardPeer? FindAllowedSource(ReadOnlySpan<byte> source)
    {
        if (source.Length == _receiveSourceLength && source.SequenceEqual(_receiveSource.AsSpan(0, source.Length)))
        {
            return _receiveSourcePeer;
        }

        WireGuardPeer? allowed;
        lock (_configLock)
        {
            allowed = _allowedIps.Lookup(source);
        }

        source.CopyTo(_receiveSource);
        _receiveSourceLength = source.Length;
        _receiveSourcePeer = allowed;
        return allowed;
    }

    private void Stage(WireGuardPeer peer, ReadOnlySpan<byte> packet)
    {
        if (!peer.TryReserveStagedSlot(MaxStagedPackets))
        {
            Counters.DropOther();
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(_bufferSize + sizeof(int));
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(_bufferSize), packet.Length);
        packet.CopyTo(buffer.AsSpan(HeaderRoom));
        peer.Staged.Enqueue(buffer);
    }

    private async Task FlushStagedAsync(WireGuardPeer peer, CancellationToken cancellationToken)
    {
        for (var i = 0; i < MaxStagedPackets && HasUsableKeys(peer) && peer.TryTakeStaged(out var buffer); i++)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(_bufferSize));
            var sent = await TrySendDataAsync(peer, buffer, length, cancellationToken).ConfigureAwait(false);
            ArrayPool<byte>.Shared.Return(buffer);
            if (!sent)
            {
                Counters.DropOther();
            }
        }
    }

    private bool HasUsableKeys(WireGuardPeer peer) =>
        peer.EndpointAddress is not null && peer.Current is { } keypair &&
        keypair.SendCount < WireGuardTimings.RejectAfterMessages &&
        _time.GetElapsedTime(keypair.CreatedTimestamp) < WireGuardTimings.RejectAfterTime;

    internal void DropStaged(WireGuardPeer peer)
    {
        while (peer.TryTakeStaged(out var buffer))
        {
            ArrayPool<byte>.Shared.Return(buffer);
            Counters.DropOther();
        }
    }

    internal void SendKeepalive(WireGuardPeer peer)
    {
        _ = SendKeepaliveAsync(peer);
    }

    private async Task SendKeepaliveAsync(WireGuardPeer peer)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(HeaderRoom + TransportDataMessage.TagSize);
        try
        {
            await TrySendDataAsync(peer, buffer, 0, _stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    internal void ZeroKeyMaterial(WireGuardPeer peer)
    {
        var retired = new List<Keypair>();
        peer.ClearKeypairs(retired);
        RemoveIndexes(retired);
        lock (_handshakeLock)
        {
            RemoveIndex(peer.Handshake.LocalIndex, peer);
            peer.Handshake.Clear();
        }
    }

    internal void BeginHandshake(WireGuardPeer peer, bool isRetry)
    {
        if (Volatile.Read(ref _disposed) != 0 || peer.EndpointAddress is null || !peer.Timers.TryBeginHandshake(isRetry))
        {
            return;
        }

        _ = SendInitiationAsync(peer);
    }

    private async Task SendInitiationAsync(WireGuardPeer peer)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(HandshakeInitiationMessage.Size);
        try
        {
            lock (_handshakeLock)
            {
                RemoveIndex(peer.Handshake.LocalIndex, peer);
                var index = AllocateIndex(peer, null);
                var error = NoiseHandshake.CreateInitiation(peer.Handshake, index, _time.GetUtcNow(), _options.Random, buffer);
                if (error != HandshakeError.None)
                {
                    RemoveIndex(index, peer);
                    return;
                }
            }

            peer.Cookies.AddMacs(buffer.AsSpan(0, HandshakeInitiationMessage.Size));
            var endpoint = peer.EndpointAddress;
            if (endpoint is null)
            {
                return;
            }

            // The retransmit timer is armed before the send: the response may be handled (and the
            // timer stopped) on the receive thread before this send returns, and a timer armed after
            // that would retransmit a finished handshake, whose response then stops the keepalive
            // the peer owes us. A failed send is retried by it too.
            peer.Timers.OnHandshakeInitiated();
            await _udp.SendAsync(buffer.AsMemory(0, HandshakeInitiationMessage.Size), endpoint, _stop.Token).ConfigureAwait(false);
            Counters.InitiationSent();
            peer.AddSent(HandshakeInitiationMessage.Size);
            peer.Timers.OnAnyAuthenticatedPacketTraversal();
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private bool IsUnderLoad()
    {
        var now = _time.GetTimestamp();
        lock (_indexLock)
        {
            if (_time.GetElapsedTime(_loadWindowStart, now) >= TimeSpan.FromSeconds(1))
            {
                _loadWindowStart = now;
                _handshakesInWindow = 0;
            }

            return ++_handshakesInWindow > _options.HandshakesPerSecondBeforeCookies;
        }
    }

    // MAC1 must be right; under load MAC2 must be too, else the sender gets a cookie and we stop here.
    private async ValueTask<bool> PassesCookieCheckAsync(byte[] buffer, int length, uint senderIndex, SocketAddress remote, CancellationToken cancellationToken)
    {
        if (!_cookieChecker.CheckMac1(buffer.AsSpan(0, length)))
        {
            Counters.DropInvalid();
            return false;
        }

        if (!IsUnderLoad())
        {
            return true;
        }

        Span<byte> source = stackalloc byte[18];
        var sourceLength = SourceBytes(remote, source);
        if (_cookieChecker.CheckMac2(buffer.AsSpan(0, length), source[..sourceLength]))
        {
            return true;
        }

        var reply = ArrayPool<byte>.Shared.Rent(CookieReplyMessage.Size);
        try
        {
            _cookieChecker.CreateReply(buffer.AsSpan(0, length), senderIndex, source[..sourceLength], reply);
            await _udp.SendAsync(reply.AsMemory(0, CookieReplyMessage.Size), remote, cancellationToken).ConfigureAwait(false);
            Counters.CookieReplySent();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(reply);
        }

        return false;
    }

    // The address and port (big-endian) of a socket address, the input of the cookie MAC.
    private static int SourceBytes(SocketAddress address, Span<byte> destination)
    {
        var raw = address.Buffer.Span;
        if (address.Family == AddressFamily.InterNetworkV6)
        {
            raw.Slice(8, 16).CopyTo(destination);
            raw.Slice(2, 2).CopyTo(destination[16..]);
            return 18;
        }

        raw.Slice(4, 4).CopyTo(destination);
        raw.Slice(2, 2).CopyTo(destination[4..]);
        return 6;
    }

    private async Task HandleInitiationAsync(byte[] buffer, int length, SocketAddress remote, CancellationToken cancellationToken)
    {
        if (length != HandshakeInitiationMessage.Size)
        {
            Counters.DropInvalid();
            return;
        }

        var senderIndex = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(HandshakeInitiationMessage.Field.SenderIndex));
        if (!await PassesCookieCheckAsync(buffer, length, senderIndex, remote, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        var response = ArrayPool<byte>.Shared.Rent(HandshakeResponseMessage.Size);
        try
        {
            WireGuardPeer? peer = null;
            lock (_handshakeLock)
            {
                var error = NoiseHandshake.ConsumeInitiation(_identity, buffer.AsSpan(0, length), FindHandshake, _time.GetUtcNow(), out var handshake);
                if (error != HandshakeError.None)
                {
                    Counters.DropInvalid();
                    return;
                }

                lock (_configLock)
                {
                    _peers.TryGetValue(handshake!.RemoteStatic, out peer);
                }

                if (peer is null)
                {
                    return;
                }

                RemoveIndex(peer.Handshake.LocalIndex, peer);
                var index = AllocateIndex(peer, null);
                if (NoiseHandshake.CreateResponse(peer.Handshake, index, _options.Random, response) != HandshakeError.None)
                {
                    RemoveIndex(index, peer);
                    return;
                }

                InstallKeys(peer);
            }

            peer.UpdateEndpoint(remote);
            peer.AddReceived(length);
            peer.Cookies.AddMacs(response.AsSpan(0, HandshakeResponseMessage.Size));
            await _udp.SendAsync(response.AsMemory(0, HandshakeResponseMessage.Size), remote, cancellationToken).ConfigureAwait(false);
            Counters.ResponseSent();
            peer.AddSent(HandshakeResponseMessage.Size);
            peer.Timers.OnAnyAuthenticatedPacketSent();
            peer.Timers.OnAnyAuthenticatedPacketTraversal();
        }
        catch (SocketException)
        {
            Counters.DropOther();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(response);
        }
    }

    private async Task HandleResponseAsync(byte[] buffer, int length, SocketAddress remote, CancellationToken cancellationToken)
    {
        if (length != HandshakeResponseMessage.Size)
        {
            Counters.DropInvalid();
            return;
        }

        var senderIndex = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(HandshakeResponseMessage.Field.SenderIndex));
        if (!await PassesCookieCheckAsync(buffer, length, senderIndex, remote, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        var receiverIndex = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(HandshakeResponseMessage.Field.ReceiverIndex));
        IndexEntry? entry;
        lock (_indexLock)
        {
            _indexes.TryGetValue(receiverIndex, out entry);
        }

        if (entry is null || entry.Keypair is not null)
        {
            Counters.DropInvalid();
            return;
        }

        var peer = entry.Peer;
        lock (_handshakeLock)
        {
            if (peer.Handshake.LocalIndex != receiverIndex ||
                NoiseHandshake.ConsumeResponse(peer.Handshake, buffer.AsSpan(0, length)) != HandshakeError.None)
            {
                Counters.DropInvalid();
                return;
            }

            InstallKeys(peer);
        }

        peer.UpdateEndpoint(remote);
        peer.AddReceived(length);
        peer.Timers.OnHandshakeComplete();
        peer.Timers.OnAnyAuthenticatedPacketReceived();
        peer.Timers.OnAnyAuthenticatedPacketTraversal();

        // Confirm the keys to the responder: with queued data, or else an empty packet.
        if (peer.Staged.IsEmpty)
        {
            await SendKeepaliveAsync(peer).ConfigureAwait(false);
        }
        else
        {
            await FlushStagedAsync(peer, cancellationToken).ConfigureAwait(false);
        }
    }

    private void HandleCookieReply(ReadOnlySpan<byte> reply)
    {
        if (reply.Length != CookieReplyMessage.Size)
        {
            Counters.DropInvalid();
            return;
        }

        var receiverIndex = BinaryPrimitives.ReadUInt32LittleEndian(reply[CookieReplyMessage.Field.ReceiverIndex..]);
        IndexEntry? entry;
        lock (_indexLock)
        {
            _indexes.TryGetValue(receiverIndex, out entry);
        }

        if (entry is null || !entry.Peer.Cookies.ConsumeReply(reply))
        {
            Counters.DropInvalid();
        }
    }

    // Under _handshakeLock: derive keys from the finished handshake and make them reachable by index.
    private void InstallKeys(WireGuardPeer peer)
    {
        Span<byte> send = stackalloc byte[32];
        Span<byte> receive = stackalloc byte[32];
        var localIndex = peer.Handshake.LocalIndex;
        var remoteIndex = peer.Handshake.RemoteIndex;
        if (NoiseHandshake.DeriveTransportKeys(peer.Handshake, send, receive, out var isInitiator) != HandshakeError.None)
        {
            return;
        }

        var keypair = new Keypair(send, receive, isInitiator, localIndex, remoteIndex, _time.GetTimestamp());
        send.Clear();
        receive.Clear();
        peer.Handshake.LocalIndex = 0;
        lock (_indexLock)
        {
            _indexes[localIndex] = new IndexEntry(peer, keypair);
        }

        var retired = new List<Keypair>();
        peer.InstallKeypair(keypair, retired);
        RemoveIndexes(retired);
        peer.RecordHandshake(_time.GetUtcNow());
        peer.Timers.OnSessionDerived();
        Counters.HandshakeCompleted();
    }

    private HandshakeState? FindHandshake(WireGuardKey publicKey)
    {
        lock (_configLock)
        {
            return _peers.TryGetValue(publicKey, out var peer) ? peer.Handshake : null;
        }
    }

    private uint AllocateIndex(WireGuardPeer peer, Keypair? keypair)
    {
        Span<byte> bytes = stackalloc byte[4];
        lock (_indexLock)
        {
            for (var attempt = 0; attempt < 1000; attempt++)
            {
                _options.Random(bytes);
                var index = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
                if (index != 0 && _indexes.TryAdd(index, new IndexEntry(peer, keypair)))
                {
                    return index;
                }
            }
        }

        throw new InvalidOperationException("the random source keeps returning used indexes");
    }

    private void RemoveIndex(uint index, WireGuardPeer peer)
    {
        if (index == 0)
        {
            return;
        }

        lock (_indexLock)
        {
            if (_indexes.TryGetValue(index, out var entry) && ReferenceEquals(entry.Peer, peer) && entry.Keypair is null)
            {
                _indexes.Remove(index);
            }
        }
    }

    private void RemoveIndexes(List<Keypair> retired)
    {
        if (retired.Count == 0)
        {
            return;
        }

        lock (_indexLock)
        {
            foreach (var keypair in retired)
            {
                if (_indexes.TryGetValue(keypair.LocalIndex, out var entry) && ReferenceEquals(entry.Keypair, keypair))
                {
                    _indexes.Remove(keypair.LocalIndex);
                }
            }
        }

        // Another thread may still be sealing with a retired keypair; its keys are released by the
        // finalizer rather than disposed under it.
    }

    private sealed record IndexEntry(WireGuardPeer Peer, Keypair? Keypair);
}
