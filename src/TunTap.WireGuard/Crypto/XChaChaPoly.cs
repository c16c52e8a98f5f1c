using NSec.Cryptography;

namespace TunTap.WireGuard.Crypto;

/// <summary>
/// XChaCha20-Poly1305 with a 24-byte random nonce (NSec/libsodium): the <c>XAEAD</c> that seals
/// cookies in cookie-reply messages.
/// </summary>
public static class XChaChaPoly
{
    /// <summary>Key length.</summary>
    public const int KeySize = 32;

    /// <summary>Nonce length.</summary>
    public const int NonceSize = 24;

    /// <summary>Authentication tag length.</summary>
    public const int TagSize = 16;

    /// <summary>Encrypts; <paramref name="output"/> receives plaintext length + <see cref="TagSize"/> bytes.</summary>
    public static void Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> output)
    {
        using var aeadKey = Key.Import(AeadAlgorithm.XChaCha20Poly1305, key, KeyBlobFormat.RawSymmetricKey);
        AeadAlgorithm.XChaCha20Poly1305.Encrypt(aeadKey, nonce, associatedData, plaintext, output[..(plaintext.Length + TagSize)]);
    }

    /// <summary>Decrypts and authenticates; false when the tag is wrong.</summary>
    public static bool Open(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> associatedData, Span<byte> output)
    {
        if (ciphertext.Length < TagSize)
        {
            return false;
        }

        using var aeadKey = Key.Import(AeadAlgorithm.XChaCha20Poly1305, key, KeyBlobFormat.RawSymmetricKey);
        return AeadAlgorithm.XChaCha20Poly1305.Decrypt(aeadKey, nonce, associatedData, ciphertext, output[..(ciphertext.Length - TagSize)]);
    }
}
