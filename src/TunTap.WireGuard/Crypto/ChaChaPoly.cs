using System.Security.Cryptography;

namespace TunTap.WireGuard.Crypto;

/// <summary>
/// The handshake's one-shot <c>AEAD(key, counter, plaintext, authtext)</c>: ChaCha20-Poly1305
/// (the BCL's) with <see cref="AeadNonce"/>. The ciphertext is the encrypted text followed by the
/// 16-byte tag. The data path keeps a <see cref="TransportKey"/> instead, which reuses its state.
/// </summary>
public static class ChaChaPoly
{
    /// <summary>Key length.</summary>
    public const int KeySize = 32;

    /// <summary>Authentication tag length.</summary>
    public const int TagSize = 16;

    /// <summary>Encrypts; <paramref name="output"/> receives plaintext length + <see cref="TagSize"/> bytes.</summary>
    public static void Seal(ReadOnlySpan<byte> key, ulong counter, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> output)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(output.Length, plaintext.Length + TagSize);
        Span<byte> nonce = stackalloc byte[AeadNonce.Size];
        AeadNonce.Write(counter, nonce);
        using var aead = new ChaCha20Poly1305(key);
        aead.Encrypt(nonce, plaintext, output[..plaintext.Length], output.Slice(plaintext.Length, TagSize), associatedData);
    }

    /// <summary>Decrypts and authenticates; false (and <paramref name="output"/> cleared) when the tag is wrong.</summary>
    public static bool Open(ReadOnlySpan<byte> key, ulong counter, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> associatedData, Span<byte> output)
    {
        if (ciphertext.Length < TagSize)
        {
            return false;
        }

        var length = ciphertext.Length - TagSize;
        ArgumentOutOfRangeException.ThrowIfLessThan(output.Length, length);
        Span<byte> nonce = stackalloc byte[AeadNonce.Size];
        AeadNonce.Write(counter, nonce);
        using var aead = new ChaCha20Poly1305(key);
        try
        {
            aead.Decrypt(nonce, ciphertext[..length], ciphertext[length..], output[..length], associatedData);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }
}
