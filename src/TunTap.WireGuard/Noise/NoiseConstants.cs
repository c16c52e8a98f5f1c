using TunTap.WireGuard.Crypto;

namespace TunTap.WireGuard.Noise;

/// <summary>The protocol names WireGuard mixes into every handshake, and the values they seed.</summary>
public static class NoiseConstants
{
    private static readonly byte[] s_initialChainingKey = ComputeInitialChainingKey();
    private static readonly byte[] s_initialHash = ComputeInitialHash();

    /// <summary>The Noise protocol name, hashed into the initial chaining key.</summary>
    public static ReadOnlySpan<byte> Construction => "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"u8;

    /// <summary>WireGuard's prologue, hashed into the initial hash.</summary>
    public static ReadOnlySpan<byte> Identifier => "WireGuard v1 zx2c4 Jason@zx2c4.com"u8;

    /// <summary><c>HASH(Construction)</c>.</summary>
    public static ReadOnlySpan<byte> InitialChainingKey => s_initialChainingKey;

    /// <summary><c>HASH(InitialChainingKey || Identifier)</c>.</summary>
    public static ReadOnlySpan<byte> InitialHash => s_initialHash;

    private static byte[] ComputeInitialChainingKey()
    {
        var key = new byte[Blake2s.HashSize];
        Blake2s.Hash(Construction, key);
        return key;
    }

    private static byte[] ComputeInitialHash()
    {
        var hash = new byte[Blake2s.HashSize];
        Blake2s.Hash(ComputeInitialChainingKey(), Identifier, hash);
        return hash;
    }
}
