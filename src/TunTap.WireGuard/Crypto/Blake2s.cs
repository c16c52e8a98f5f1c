using Org.BouncyCastle.Crypto.Digests;

namespace TunTap.WireGuard.Crypto;

/// <summary>
/// BLAKE2s (RFC 7693) as WireGuard uses it: the unkeyed 32-byte <c>HASH</c> and the keyed
/// 16-byte <c>MAC</c>. The primitive is BouncyCastle's; this class only fixes the parameters.
/// </summary>
public static class Blake2s
{
    /// <summary>Length of <see cref="Hash(ReadOnlySpan{byte}, Span{byte})"/> output.</summary>
    public const int HashSize = 32;

    /// <summary>Length of <see cref="Mac"/> output.</summary>
    public const int MacSize = 16;

    /// <summary>Block length, used by HMAC.</summary>
    public const int BlockSize = 64;

    /// <summary><c>HASH(input)</c>: unkeyed BLAKE2s-256.</summary>
    public static void Hash(ReadOnlySpan<byte> input, Span<byte> output) => Hash(input, [], output);

    /// <summary><c>HASH(first || second)</c> without concatenating.</summary>
    public static void Hash(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> output)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(output.Length, HashSize);
        var digest = new Blake2sDigest(HashSize * 8);
        digest.BlockUpdate(first);
        digest.BlockUpdate(second);
        digest.DoFinal(output);
    }

    /// <summary><c>MAC(key, input)</c>: BLAKE2s keyed with <paramref name="key"/>, 16-byte output.</summary>
    public static void Mac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> output)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(output.Length, MacSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(key.Length, 32);
        var digest = new Blake2sDigest(key.ToArray(), MacSize, null, null);
        digest.BlockUpdate(input);
        digest.DoFinal(output);
    }
}
