using System.Security.Cryptography;
using TunTap.WireGuard.Interop;

namespace TunTap.WireGuard.Crypto;

/// <summary>
/// XChaCha20-Poly1305 with a 24-byte random nonce: the <c>XAEAD</c> that seals cookies in
/// cookie-reply messages. The primitive is libsodium's (the library NSec wraps), called directly
/// so that a key lives in the caller's span rather than in a fresh <c>sodium_malloc</c> mapping
/// per reply: cookie replies are sent exactly when the responder is under load.
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
    public static unsafe void Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> output)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(key.Length, KeySize);
        ArgumentOutOfRangeException.ThrowIfNotEqual(nonce.Length, NonceSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(output.Length, plaintext.Length + TagSize);
        Libsodium.EnsureInitialized();
        int result;
        ulong written;
        fixed (byte* k = key)
        fixed (byte* npub = nonce)
        fixed (byte* m = plaintext)
        fixed (byte* ad = associatedData)
        fixed (byte* c = output)
        {
            result = Libsodium.CryptoAeadXChaCha20Poly1305IetfEncrypt(
                c, &written, m, (ulong)plaintext.Length, ad, (ulong)associatedData.Length, null, npub, k);
        }

        if (result != 0 || written != (ulong)(plaintext.Length + TagSize))
        {
            throw new CryptographicException("XChaCha20-Poly1305 encryption failed");
        }
    }

    /// <summary>Decrypts and authenticates; false (and <paramref name="output"/> cleared) when the tag is wrong.</summary>
    public static unsafe bool Open(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> associatedData, Span<byte> output)
    {
        if (ciphertext.Length < TagSize)
        {
            return false;
        }

        ArgumentOutOfRangeException.ThrowIfNotEqual(key.Length, KeySize);
        ArgumentOutOfRangeException.ThrowIfNotEqual(nonce.Length, NonceSize);
        var length = ciphertext.Length - TagSize;
        ArgumentOutOfRangeException.ThrowIfLessThan(output.Length, length);
        Libsodium.EnsureInitialized();
        int result;
        ulong written;
        fixed (byte* k = key)
        fixed (byte* npub = nonce)
        fixed (byte* c = ciphertext)
        fixed (byte* ad = associatedData)
        fixed (byte* m = output)
        {
            result = Libsodium.CryptoAeadXChaCha20Poly1305IetfDecrypt(
                m, &written, null, c, (ulong)ciphertext.Length, ad, (ulong)associatedData.Length, npub, k);
        }

        if (result != 0 || written != (ulong)length)
        {
            output[..length].Clear();
            return false;
        }

        return true;
    }
}
