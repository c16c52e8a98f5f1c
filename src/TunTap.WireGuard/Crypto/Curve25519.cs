using System.Security.Cryptography;
using NSec.Cryptography;

namespace TunTap.WireGuard.Crypto;

/// <summary>
/// X25519 (RFC 7748) over 32-byte spans, the <c>DH</c> and <c>DH-Generate</c> of the WireGuard
/// paper. The primitive is NSec's (libsodium); private keys are clamped like <c>wg genkey</c> does.
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
    public static void DerivePublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(privateKey.Length, KeySize);
        ArgumentOutOfRangeException.ThrowIfLessThan(publicKey.Length, KeySize);
        using var key = Key.Import(KeyAgreementAlgorithm.X25519, privateKey, KeyBlobFormat.RawPrivateKey);
        if (!key.PublicKey.TryExport(KeyBlobFormat.RawPublicKey, publicKey, out var written) || written != KeySize)
        {
            throw new CryptographicException("X25519 public key export failed");
        }
    }

    /// <summary>
    /// <c>DH(private, public)</c>. False when the result is all zero (a low-order public key),
    /// which WireGuard refuses.
    /// </summary>
    public static bool TryAgree(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey, Span<byte> sharedSecret)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(privateKey.Length, KeySize);
        ArgumentOutOfRangeException.ThrowIfNotEqual(publicKey.Length, KeySize);
        ArgumentOutOfRangeException.ThrowIfLessThan(sharedSecret.Length, KeySize);
        using var key = Key.Import(KeyAgreementAlgorithm.X25519, privateKey, KeyBlobFormat.RawPrivateKey);
        if (!PublicKey.TryImport(KeyAgreementAlgorithm.X25519, publicKey, KeyBlobFormat.RawPublicKey, out var remote) || remote is null)
        {
            return false;
        }

        SharedSecret? secret;
        try
        {
            var creation = new SharedSecretCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport };
            secret = KeyAgreementAlgorithm.X25519.Agree(key, remote, in creation);
        }
        catch (CryptographicException)
        {
            return false;
        }

        if (secret is null)
        {
            return false;
        }

        using (secret)
        {
            if (!secret.TryExport(SharedSecretBlobFormat.RawSharedSecret, sharedSecret, out var written) || written != KeySize)
            {
                return false;
            }
        }

        // libsodium already refuses an all-zero result; checking again keeps the guarantee local.
        return !CryptographicOperations.FixedTimeEquals(sharedSecret[..KeySize], stackalloc byte[KeySize]);
    }
}
