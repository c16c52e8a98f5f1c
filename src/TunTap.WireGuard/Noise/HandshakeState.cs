using System.Security.Cryptography;
using TunTap.WireGuard.Crypto;

namespace TunTap.WireGuard.Noise;

/// <summary>
/// One peer's Noise_IKpsk2 handshake state: the running hash and chaining key, ephemeral keys,
/// indexes, and the per-peer replay and flood protection (last TAI64N timestamp accepted, time
/// of the last accepted initiation). Not thread-safe: the owner serialises access.
/// </summary>
public sealed class HandshakeState
{
    private readonly byte[] _remoteStatic;
    private readonly byte[] _presharedKey = new byte[32];
    private readonly byte[] _staticStatic = new byte[32];

    /// <summary>Prepares handshakes between <paramref name="local"/> and the peer <paramref name="remoteStatic"/>.</summary>
    public HandshakeState(NoiseIdentity local, WireGuardKey remoteStatic, WireGuardKey presharedKey = default)
    {
        ArgumentNullException.ThrowIfNull(local);
        Local = local;
        RemoteStatic = remoteStatic;
        _remoteStatic = remoteStatic.ToArray();
        presharedKey.CopyTo(_presharedKey);
        // A low-order peer key gives an all-zero secret: every handshake with it will fail.
        HasValidStaticSecret = Curve25519.TryAgree(local.PrivateKeyBytes, _remoteStatic, _staticStatic);
        Crypto.Blake2s.Hash(Messages.MessageMacs.Mac1Label, _remoteStatic, RemoteMac1Key);
        Crypto.Blake2s.Hash(Messages.MessageMacs.CookieLabel, _remoteStatic, RemoteCookieKey);
    }

    /// <summary>Our identity.</summary>
    public NoiseIdentity Local { get; }

    /// <summary>The peer's static public key.</summary>
    public WireGuardKey RemoteStatic { get; }

    /// <summary>Where the handshake stands.</summary>
    public HandshakeStage Stage { get; internal set; }

    /// <summary>Our index for this handshake (and the keypair it yields).</summary>
    public uint LocalIndex { get; internal set; }

    /// <summary>The peer's index for this handshake.</summary>
    public uint RemoteIndex { get; internal set; }

    /// <summary>False when DH(our static, their static) is zero (a low-order key): no handshake can succeed.</summary>
    public bool HasValidStaticSecret { get; }

    /// <summary>The last initiation timestamp accepted from the peer (replay protection).</summary>
    internal byte[] LastTimestamp { get; } = new byte[Tai64N.Size];

    /// <summary>When the last initiation from the peer was accepted (flood protection).</summary>
    internal DateTimeOffset LastInitiationConsumed { get; set; } = DateTimeOffset.MinValue;

    internal byte[] Hash { get; } = new byte[32];

    internal byte[] ChainingKey { get; } = new byte[32];

    internal byte[] LocalEphemeralPrivate { get; } = new byte[32];

    internal byte[] RemoteEphemeral { get; } = new byte[32];

    internal ReadOnlySpan<byte> RemoteStaticBytes => _remoteStatic;

    internal ReadOnlySpan<byte> PresharedKey => _presharedKey;

    internal ReadOnlySpan<byte> StaticStaticSecret => _staticStatic;

    /// <summary>HASH("mac1----" || peer's public key): the MAC1 key of messages we send the peer.</summary>
    internal byte[] RemoteMac1Key { get; } = new byte[32];

    /// <summary>HASH("cookie--" || peer's public key): opens cookie replies from the peer.</summary>
    internal byte[] RemoteCookieKey { get; } = new byte[32];

    /// <summary>Changes the preshared key (takes effect at the next handshake).</summary>
    public void SetPresharedKey(WireGuardKey presharedKey) => presharedKey.CopyTo(_presharedKey);

    /// <summary>Wipes the handshake secrets and returns to <see cref="HandshakeStage.Zeroed"/>.</summary>
    public void Clear()
    {
        CryptographicOperations.ZeroMemory(Hash);
        CryptographicOperations.ZeroMemory(ChainingKey);
        CryptographicOperations.ZeroMemory(LocalEphemeralPrivate);
        CryptographicOperations.ZeroMemory(RemoteEphemeral);
        LocalIndex = 0;
        RemoteIndex = 0;
        Stage = HandshakeStage.Zeroed;
    }
}
