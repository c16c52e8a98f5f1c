using System.Security.Cryptography;

namespace TunTap.WireGuard.Crypto;

/// <summary>
/// One direction's transport-data key: ChaCha20-Poly1305 used in place on packet buffers with the
/// message counter as nonce. Encrypting and decrypting allocate nothing. The BCL cipher keeps
/// native per-instance state (an OpenSSL context), so one instance must not be used by two threads
/// at once: <see cref="Seal(ulong, Span{byte}, Span{byte})"/> and <see cref="Open(ulong, Span{byte}, ReadOnlySpan{byte})"/> share a locked
/// instance, and each of the <see cref="Lanes"/> lanes has its own, for a data-path thread that
/// owns that lane (no lock): the device seals on lanes 0 and 1 and opens on
/// <see cref="ReceiveLane"/>.
/// </summary>
public sealed class TransportKey : IDisposable
{
    /// <summary>Lanes for <see cref="Seal(int, ulong, Span{byte}, Span{byte})"/> and <see cref="Open(int, ulong, Span{byte}, ReadOnlySpan{byte})"/>.</summary>
    public const int Lanes = 3;

    /// <summary>The lane of a device's receive loop.</summary>
    public const int ReceiveLane = 2;

    private readonly ChaCha20Poly1305 _aead;
    private readonly Lock _lock = new();
    private readonly ChaCha20Poly1305?[] _lanes = new ChaCha20Poly1305?[Lanes];
    private readonly byte[] _key;
    private bool _disposed;

    /// <summary>Creates the cipher for a 32-byte key.</summary>
    public TransportKey(ReadOnlySpan<byte> key)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(key.Length, ChaChaPoly.KeySize);
        _aead = new ChaCha20Poly1305(key);
        _key = GC.AllocateArray<byte>(ChaChaPoly.KeySize, pinned: true);
        key.CopyTo(_key);
    }

    /// <summary>Encrypts <paramref name="payload"/> in place and writes the tag to <paramref name="tag"/> (any thread).</summary>
    public void Seal(ulong counter, Span<byte> payload, Span<byte> tag)
    {
        Span<byte> nonce = stackalloc byte[AeadNonce.Size];
        AeadNonce.Write(counter, nonce);
        lock (_lock)
        {
            _aead.Encrypt(nonce, payload, payload, tag[..ChaChaPoly.TagSize]);
        }
    }

    /// <summary>
    /// As <see cref="Seal(ulong, Span{byte}, Span{byte})"/> on lane <paramref name="lane"/>'s own
    /// instance (made on first use): the caller guarantees one thread per lane at a time.
    /// </summary>
    public void Seal(int lane, ulong counter, Span<byte> payload, Span<byte> tag)
    {
        var aead = _lanes[lane] ?? CreateLane(lane);
        Span<byte> nonce = stackalloc byte[AeadNonce.Size];
        AeadNonce.Write(counter, nonce);
        aead.Encrypt(nonce, payload, payload, tag[..ChaChaPoly.TagSize]);
    }

    /// <summary>Decrypts <paramref name="payload"/> in place; false (payload cleared) when the tag is wrong.</summary>
    public bool Open(ulong counter, Span<byte> payload, ReadOnlySpan<byte> tag)
    {
        Span<byte> nonce = stackalloc byte[AeadNonce.Size];
        AeadNonce.Write(counter, nonce);
        try
        {
            lock (_lock)
            {
                _aead.Decrypt(nonce, payload, tag[..ChaChaPoly.TagSize], payload);
            }

            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    /// <summary>
    /// As <see cref="Open(ulong, Span{byte}, ReadOnlySpan{byte})"/> on lane <paramref name="lane"/>'s
    /// own instance (made on first use): the caller guarantees one thread per lane at a time.
    /// </summary>
    public bool Open(int lane, ulong counter, Span<byte> payload, ReadOnlySpan<byte> tag)
    {
        var aead = _lanes[lane] ?? CreateLane(lane);
        Span<byte> nonce = stackalloc byte[AeadNonce.Size];
        AeadNonce.Write(counter, nonce);
        try
        {
            aead.Decrypt(nonce, payload, tag[..ChaChaPoly.TagSize], payload);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _aead.Dispose();
            foreach (var lane in _lanes)
            {
                lane?.Dispose();
            }

            CryptographicOperations.ZeroMemory(_key);
        }
    }

    private ChaCha20Poly1305 CreateLane(int lane)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _lanes[lane] ??= new ChaCha20Poly1305(_key);
        }
    }
}
