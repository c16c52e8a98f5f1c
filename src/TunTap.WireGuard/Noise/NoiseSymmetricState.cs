using System.Security.Cryptography;
using TunTap.WireGuard.Crypto;

namespace TunTap.WireGuard.Noise;

/// <summary>
/// The running state of one handshake message computation: the hash <c>H</c>, the chaining key
/// <c>C</c>, the current message key <c>κ</c> and scratch room for a shared secret or <c>τ</c>, in
/// one caller-provided buffer of <see cref="Size"/> bytes (stack memory). Each step is one line of
/// the WireGuard paper (§5.4); <see cref="Clear"/> wipes the keys when the message is done.
/// </summary>
internal readonly ref struct NoiseSymmetricState
{
    /// <summary>The bytes the state needs.</summary>
    public const int Size = 4 * KeyLength;

    private const int KeyLength = 32;

    private readonly Span<byte> _hash;
    private readonly Span<byte> _chainingKey;
    private readonly Span<byte> _key;
    private readonly Span<byte> _scratch;

    /// <summary>A state over <paramref name="buffer"/> (at least <see cref="Size"/> bytes; contents are not read).</summary>
    public NoiseSymmetricState(Span<byte> buffer)
    {
        _hash = buffer[..KeyLength];
        _chainingKey = buffer.Slice(KeyLength, KeyLength);
        _key = buffer.Slice(2 * KeyLength, KeyLength);
        _scratch = buffer.Slice(3 * KeyLength, KeyLength);
    }

    /// <summary>Starts an initiation to the responder whose static public key is <paramref name="responderStatic"/>: <c>C := Ci, H := HASH(Hi || Sr_pub)</c>.</summary>
    public void Initialize(ReadOnlySpan<byte> responderStatic)
    {
        NoiseConstants.InitialChainingKey.CopyTo(_chainingKey);
        NoiseConstants.InitialHash.CopyTo(_hash);
        MixHash(responderStatic);
    }

    /// <summary>Continues from the hash and chaining key an earlier message left in <paramref name="handshake"/>.</summary>
    public void Load(HandshakeState handshake)
    {
        handshake.Hash.CopyTo(_hash);
        handshake.ChainingKey.CopyTo(_chainingKey);
    }

    /// <summary>Keeps the hash and chaining key in <paramref name="handshake"/> for the next message.</summary>
    public void Store(HandshakeState handshake)
    {
        _hash.CopyTo(handshake.Hash);
        _chainingKey.CopyTo(handshake.ChainingKey);
    }

    /// <summary><c>H := HASH(H || data)</c>.</summary>
    public void MixHash(ReadOnlySpan<byte> data) => Blake2s.Hash(_hash, data, _hash);

    /// <summary><c>C := KDF1(C, data)</c>.</summary>
    public void MixChainingKey(ReadOnlySpan<byte> data) => Kdf.Derive(_chainingKey, data, _chainingKey);

    /// <summary><c>(C, κ) := KDF2(C, data)</c>.</summary>
    public void MixKey(ReadOnlySpan<byte> data) => Kdf.Derive(_chainingKey, data, _chainingKey, _key);

    /// <summary><c>(C, τ, κ) := KDF3(C, presharedKey)</c>, then <c>H := HASH(H || τ)</c>.</summary>
    public void MixKeyAndHash(ReadOnlySpan<byte> presharedKey)
    {
        Kdf.Derive(_chainingKey, presharedKey, _chainingKey, _scratch, _key);
        MixHash(_scratch);
    }

    /// <summary><c>C := KDF1(C, DH(privateKey, publicKey))</c>; false (nothing mixed) when the shared secret is all zero.</summary>
    public bool TryMixChainingKeyWithDh(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey)
    {
        if (!Curve25519.TryAgree(privateKey, publicKey, _scratch))
        {
            return false;
        }

        MixChainingKey(_scratch);
        return true;
    }

    /// <summary><c>(C, κ) := KDF2(C, DH(privateKey, publicKey))</c>; false (nothing mixed) when the shared secret is all zero.</summary>
    public bool TryMixKeyWithDh(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey)
    {
        if (!Curve25519.TryAgree(privateKey, publicKey, _scratch))
        {
            return false;
        }

        MixKey(_scratch);
        return true;
    }

    /// <summary><c>ciphertext := AEAD(κ, 0, plaintext, H)</c>, then <c>H := HASH(H || ciphertext)</c>.</summary>
    public void EncryptAndHash(ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        ChaChaPoly.Seal(_key, 0, plaintext, _hash, ciphertext);
        MixHash(ciphertext);
    }

    /// <summary><c>plaintext := AEAD-open(κ, 0, ciphertext, H)</c>, then <c>H := HASH(H || ciphertext)</c>; false (hash unchanged) when it does not authenticate.</summary>
    public bool TryDecryptAndHash(ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        if (!ChaChaPoly.Open(_key, 0, ciphertext, _hash, plaintext))
        {
            return false;
        }

        MixHash(ciphertext);
        return true;
    }

    /// <summary>Wipes the chaining key, the message key and the scratch secret (and the hash).</summary>
    public void Clear()
    {
        CryptographicOperations.ZeroMemory(_hash);
        CryptographicOperations.ZeroMemory(_chainingKey);
        CryptographicOperations.ZeroMemory(_key);
        CryptographicOperations.ZeroMemory(_scratch);
    }
}
