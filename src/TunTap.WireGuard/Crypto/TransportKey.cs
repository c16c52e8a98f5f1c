using System.Security.Cryptography;

namespace TunTap.WireGuard.Crypto;

/// <summary>
/// One direction's transport-data key: a ChaCha20-Poly1305 instance created once per keypair and
/// used in place on packet buffers with the message counter as nonce. Encrypting and decrypting
/// allocate nothing. Safe to use from several threads (the BCL type keeps no per-call state).
/// </summary>
public sealed class TransportKey : IDisposable
{
    private readonly ChaCha20Poly1305 _aead;

    /// <summary>Creates the cipher for a 32-byte key.</summary>
    public TransportKey(ReadOnlySpan<byte> key)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(key.Length, ChaChaPoly.KeySize);
        _aead = new ChaCha20Poly1305(key);
    }

    /// <summary>Encrypts <paramref name="payload"/> in place and writes the tag to <paramref name="tag"/>.</summary>
    public void Seal(ulong counter, Span<byte> payload, Span<byte> tag)
    {
        Span<byte> nonce = stackalloc byte[AeadNonce.Size];
        AeadNonce.Write(counter, nonce);
        _aead.Encrypt(nonce, payload, payload, tag[..ChaChaPoly.TagSize]);
    }

    /// <summary>Decrypts <paramref name="payload"/> in place; false (payload cleared) when the tag is wrong.</summary>
    public bool Open(ulong counter, Span<byte> payload, ReadOnlySpan<byte> tag)
    {
        Span<byte> nonce = stackalloc byte[AeadNonce.Size];
        AeadNonce.Write(counter, nonce);
        try
        {
            _aead.Decrypt(nonce, payload, tag[..ChaChaPoly.TagSize], payload);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _aead.Dispose();
}
