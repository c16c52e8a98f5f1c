using System.Security.Cryptography;
using TunTap.WireGuard.Interop;

namespace TunTap.WireGuard.Crypto;

/// <summary>
/// X25519 (RFC 7748) over 32-byte spans, the <c>DH</c> and <c>DH-Generate</c> of the WireGuard
/// paper. The primitive is libsodium's, the native library NSec ships and wraps, called directly:
/// NSec's <c>Key</c> and <c>SharedSecret</c> put every key and result in <c>sodium_malloc</c>
/// memory (an mmap, guard pages and mlock each, then munmap), which cost a handshake more than
/// the curve arithmetic. Here keys and results stay in the caller's (stack) spans, which the
/// handshake wipes. Private keys are clamped like <c>wg genkey</c> does.
/// </summary>
public static class Curve25519
{
    /// <summary>Size of private keys, public keys and shared secrets.</summary>
    public const int KeySize = 32;

    /// <summary>Clears and sets the bits RFC 7748 fixes in a scalar (as <c>wg genkey</c> does).</summary>
    public static void Clamp(Span<byte> privateKey)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(privateKey.Length, KeySize);
        privateKey[0] &= 248;
        privateKey[31] = (byte)((privateKey[31] & 127) | 64);
    }

    /// <summary>Fills <paramref name="privateKey"/> with a fresh clamped private key.</summary>
    public static void GeneratePrivateKey(Span<byte> privateKey, RandomFill? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(privateKey.Length, KeySize);
        (random ?? RandomNumberGenerator.Fill)(privateKey);
        Clamp(privateKey);
    }

    /// <summary>Writes the public key of <paramref name="privateKey"/>.</summary>
    public static unsafe void DerivePublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(privateKey.Length, KeySize);
        ArgumentOutOfRangeException.ThrowIfLessThan(publicKey.Length, KeySize);
        Libsodium.EnsureInitialized();
        int result;
        fixed (byte* scalar = privateKey)
        fixed (byte* point = publicKey)
        {
            result = Libsodium.CryptoScalarmultCurve25519Base(point, scalar);
        }

        if (result != 0)
        {
            throw new CryptographicException("X25519 public key derivation failed");
        }
    }

    /// <summary>
    /// <c>DH(private, public)</c>. False when the result is all zero (a low-order public key),
    /// which WireGuard refuses.
    /// </summary>
    public static unsafe bool TryAgree(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey, Span<byte> sharedSecret)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(privateKey.Length, KeySize);
        ArgumentOutOfRangeException.ThrowIfNotEqual(publicKey.Length, KeySize);
        ArgumentOutOfRangeException.ThrowIfLessThan(sharedSecret.Length, KeySize);
        Libsodium.EnsureInitialized();
        int result;
        fixed (byte* scalar = privateKey)
        fixed (byte* point = publicKey)
        fixed (byte* output = sharedSecret)
        {
            result = Libsodium.CryptoScalarmultCurve25519(output, scalar, point);
        }

        // libsodium already refuses an all-zero result; checking again keeps the guarantee local.
        var secret = sharedSecret[..KeySize];
        if (result != 0 || CryptographicOperations.FixedTimeEquals(secret, stackalloc byte[KeySize]))
        {
            secret.Clear();
            return false;
        }

        return true;
    }
}
