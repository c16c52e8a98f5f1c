using TunTap.WireGuard.Crypto;
using TunTap.WireGuard.Messages;

namespace TunTap.WireGuard.Noise;

/// <summary>
/// The local static keypair, with the keys derived from its public key that incoming handshakes
/// use: the MAC1 key peers compute for us and the key our cookie replies are sealed with.
/// </summary>
public sealed class NoiseIdentity
{
    private readonly byte[] _privateKey;
    private readonly byte[] _publicKey;
    private readonly byte[] _mac1Key = new byte[Blake2s.HashSize];
    private readonly byte[] _cookieKey = new byte[Blake2s.HashSize];

    /// <summary>Creates the identity of <paramref name="privateKey"/>.</summary>
    public NoiseIdentity(WireGuardKey privateKey)
    {
        PrivateKey = privateKey;
        PublicKey = privateKey.DerivePublicKey();
        _privateKey = privateKey.ToArray();
        _publicKey = PublicKey.ToArray();
        MessageMacs.DeriveMac1Key(_publicKey, _mac1Key);
        MessageMacs.DeriveCookieKey(_publicKey, _cookieKey);
    }

    /// <summary>The private key.</summary>
    public WireGuardKey PrivateKey { get; }

    /// <summary>The public key peers know us by.</summary>
    public WireGuardKey PublicKey { get; }

    internal ReadOnlySpan<byte> PrivateKeyBytes => _privateKey;

    internal ReadOnlySpan<byte> PublicKeyBytes => _publicKey;

    /// <summary>Key of MAC1 on messages sent to us.</summary>
    internal ReadOnlySpan<byte> Mac1Key => _mac1Key;

    /// <summary>Key sealing the cookies we send.</summary>
    internal ReadOnlySpan<byte> CookieKey => _cookieKey;
}
