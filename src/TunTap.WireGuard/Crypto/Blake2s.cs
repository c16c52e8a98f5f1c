using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Digests;

namespace TunTap.WireGuard.Crypto;

/// <summary>
/// BLAKE2s (RFC 7693) as WireGuard uses it: the unkeyed 32-byte <c>HASH</c> and the keyed
/// 16-byte <c>MAC</c>. The primitive is BouncyCastle's; this class only fixes the parameters.
/// A handshake hashes about a hundred times, so each thread keeps one unkeyed digest (and a few
/// keyed ones, for the MAC1 keys it sees again and again) and resets it instead of allocating.
/// </summary>
public static class Blake2s
{
    /// <summary>Length of <see cref="Hash(ReadOnlySpan{byte}, Span{byte})"/> output.</summary>
    public const int HashSize = 32;

    /// <summary>Length of <see cref="Mac"/> output.</summary>
    public const int MacSize = 16;

    /// <summary>Block length, used by HMAC.</summary>
    public const int BlockSize = 64;

    private const int MaxKeySize = 32;
    private const int CachedMacKeys = 4;

    [ThreadStatic]
    private static Blake2sDigest? t_digest;

    [ThreadStatic]
    private static MacDigest?[]? t_macDigests;

    [ThreadStatic]
    private static int t_nextMacSlot;

    /// <summary><c>HASH(input)</c>: unkeyed BLAKE2s-256.</summary>
    public static void Hash(ReadOnlySpan<byte> input, Span<byte> output) => Hash(input, [], [], output);

    /// <summary><c>HASH(first || second)</c> without concatenating.</summary>
    public static void Hash(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> output) =>
        Hash(first, second, [], output);

    /// <summary><c>HASH(first || second || third)</c> without concatenating.</summary>
    public static void Hash(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, ReadOnlySpan<byte> third, Span<byte> output)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(output.Length, HashSize);
        var digest = t_digest ??= new Blake2sDigest(HashSize * 8);
        // DoFinal resets the digest; Reset again in case an earlier use stopped half-way.
        digest.Reset();
        digest.BlockUpdate(first);
        digest.BlockUpdate(second);
        digest.BlockUpdate(third);
        digest.DoFinal(output);
    }

    /// <summary><c>MAC(key, input)</c>: BLAKE2s keyed with <paramref name="key"/>, 16-byte output.</summary>
    public static void Mac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> output)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(output.Length, MacSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(key.Length, MaxKeySize);
        var digest = MacDigestFor(key);
        digest.BlockUpdate(input);
        digest.DoFinal(output);
    }

    // A keyed BouncyCastle digest can only be reset to its own key, so keep one per key for the
    // last few keys this thread used: MAC1 keys are fixed per identity and peer, and the cookie
    // keys change every two minutes at most.
    private static Blake2sDigest MacDigestFor(ReadOnlySpan<byte> key)
    {
        var slots = t_macDigests ??= new MacDigest?[CachedMacKeys];
        foreach (var slot in slots)
        {
            if (slot is not null && slot.Matches(key))
            {
                slot.Digest.Reset();
                return slot.Digest;
            }
        }

        var created = new MacDigest(key);
        slots[t_nextMacSlot]?.Clear();
        slots[t_nextMacSlot] = created;
        t_nextMacSlot = (t_nextMacSlot + 1) % CachedMacKeys;
        return created.Digest;
    }

    private sealed class MacDigest
    {
        private readonly byte[] _key;

        public MacDigest(ReadOnlySpan<byte> key)
        {
            _key = key.ToArray();
            Digest = new Blake2sDigest(_key, MacSize, null, null);
        }

        public Blake2sDigest Digest { get; }

        public bool Matches(ReadOnlySpan<byte> key) =>
            key.Length == _key.Length && CryptographicOperations.FixedTimeEquals(key, _key);

        public void Clear()
        {
            CryptographicOperations.ZeroMemory(_key);
            Digest.ClearKey();
        }
    }
}
