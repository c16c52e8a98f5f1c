using System.Collections.Concurrent;
using System.Net;
using TunTap.WireGuard.Noise;
using TunTap.WireGuard.Timers;
using TunTap.WireGuard.Transport;

namespace TunTap.WireGuard;

/// <summary>
/// A configured peer of a <see cref="WireGuardDevice"/>: its keys, endpoint, handshake, keypairs
/// (previous, current, and the responder's unconfirmed next), timers and statistics.
/// </summary>
public sealed class WireGuardPeer : IDisposable
{
    private readonly Lock _keypairLock = new();
    private Keypair? _previous;
    private Keypair? _current;
    private Keypair? _next;
    private volatile SocketAddress? _endpoint;
    private long _lastHandshakeTicks;
    private long _receivedBytes;
    private long _sentBytes;
    private int _stagedCount;

    internal WireGuardPeer(WireGuardDevice device, WireGuardPeerOptions options, NoiseIdentity identity, SocketAddress? endpoint, TimeProvider time, int seed)
    {
        PublicKey = options.PublicKey;
        Handshake = new HandshakeState(identity, options.PublicKey, options.PresharedKey);
        Cookies = new CookieGenerator(options.PublicKey, time);
        Timers = new PeerTimers(new TimerActions(device, this), time, seed) { PersistentKeepaliveInterval = options.PersistentKeepalive };
        _endpoint = endpoint;
    }

    /// <summary>The peer's public key.</summary>
    public WireGuardKey PublicKey { get; }

    /// <summary>Where packets to the peer go: configured, or where it was last heard from.</summary>
    public IPEndPoint? Endpoint => _endpoint is { } address ? (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(address) : null;

    /// <summary>When the last handshake completed, or null.</summary>
    public DateTimeOffset? LastHandshake
    {
        get
        {
            var ticks = Interlocked.Read(ref _lastHandshakeTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    /// <summary>Bytes of WireGuard messages (handshakes and transport data) received from the peer, as wireguard-go counts them.</summary>
    public long ReceivedBytes => Interlocked.Read(ref _receivedBytes);

    /// <summary>Bytes of WireGuard messages (handshakes and transport data) sent to the peer, as wireguard-go counts them.</summary>
    public long SentBytes => Interlocked.Read(ref _sentBytes);

    internal HandshakeState Handshake { get; }

    internal CookieGenerator Cookies { get; }

    internal PeerTimers Timers { get; }

    internal ConcurrentQueue<byte[]> Staged { get; } = new();

    internal SocketAddress? EndpointAddress => _endpoint;

    internal Keypair? Current => Volatile.Read(ref _current);

    internal bool IsNext(Keypair keypair)
    {
        lock (_keypairLock)
        {
            return ReferenceEquals(_next, keypair);
        }
    }

    /// <summary>Remembers where an authenticated packet came from (roaming); copies only when it changed.</summary>
    internal void UpdateEndpoint(SocketAddress source)
    {
        // Compared and copied by their used bytes: a receive buffer may be bigger than its address.
        var current = _endpoint;
        var used = source.Buffer.Span[..source.Size];
        if (current is not null && current.Size == source.Size && current.Buffer.Span[..current.Size].SequenceEqual(used))
        {
            return;
        }

        var copy = new SocketAddress(source.Family, source.Size);
        used.CopyTo(copy.Buffer.Span);
        _endpoint = copy;
    }

    internal void RecordHandshake(DateTimeOffset now) => Interlocked.Exchange(ref _lastHandshakeTicks, now.UtcTicks);

    internal void AddReceived(int bytes) => Interlocked.Add(ref _receivedBytes, bytes);

    internal void AddSent(int bytes) => Interlocked.Add(ref _sentBytes, bytes);

    internal bool TryReserveStagedSlot(int limit)
    {
        if (Interlocked.Increment(ref _stagedCount) > limit)
        {
            Interlocked.Decrement(ref _stagedCount);
            return false;
        }

        return true;
    }

    internal bool TryTakeStaged(out byte[] buffer)
    {
        if (Staged.TryDequeue(out buffer!))
        {
            Interlocked.Decrement(ref _stagedCount);
            return true;
        }

        return false;
    }

    /// <summary>
    /// Installs fresh keys. The initiator's are usable at once; the responder's wait in "next" until
    /// the initiator's first message confirms them. Returns the keypairs that are no longer reachable.
    /// </summary>
    internal void InstallKeypair(Keypair keypair, List<Keypair> retired)
    {
        lock (_keypairLock)
        {
            if (keypair.IsInitiator)
            {
                if (_next is not null)
                {
                    Retire(_previous, retired);
                    Retire(_current, retired);
                    _previous = _next;
                    _next = null;
                }
                else
                {
                    Retire(_previous, retired);
                    _previous = _current;
                }

                Volatile.Write(ref _current, keypair);
            }
            else
            {
                Retire(_next, retired);
                Retire(_previous, retired);
                _previous = null;
                _next = keypair;
            }
        }
    }

    /// <summary>A message authenticated with <paramref name="keypair"/>: if it was "next", it becomes current.</summary>
    internal bool ConfirmKeypair(Keypair keypair, List<Keypair> retired)
    {
        lock (_keypairLock)
        {
            if (!ReferenceEquals(_next, keypair))
            {
                return false;
            }

            Retire(_previous, retired);
            _previous = _current;
            Volatile.Write(ref _current, keypair);
            _next = null;
            return true;
        }
    }

    internal void ClearKeypairs(List<Keypair> retired)
    {
        lock (_keypairLock)
        {
            Retire(_previous, retired);
            Retire(_current, retired);
            Retire(_next, retired);
            _previous = null;
            Volatile.Write(ref _current, null);
            _next = null;
        }
    }

    /// <summary>Stops the timers.</summary>
    public void Dispose() => Timers.Dispose();

    private static void Retire(Keypair? keypair, List<Keypair> retired)
    {
        if (keypair is not null)
        {
            retired.Add(keypair);
        }
    }

    private sealed class TimerActions(WireGuardDevice device, WireGuardPeer peer) : IPeerTimerActions
    {
        public void SendHandshakeInitiation(bool isRetry) => device.BeginHandshake(peer, isRetry);

        public void SendKeepalive() => device.SendKeepalive(peer);

        public void HandshakeFailed() => device.DropStaged(peer);

        public void ZeroKeyMaterial() => device.ZeroKeyMaterial(peer);
    }
}
