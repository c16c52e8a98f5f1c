using System.Buffers.Binary;

namespace TunTap.WireGuard.Crypto;

/// <summary>
/// WireGuard's 96-bit ChaCha20-Poly1305 nonce: 32 zero bits followed by the 64-bit message
/// counter in little-endian order.
/// </summary>
public static class AeadNonce
{
    /// <summary>Nonce length.</summary>
    public const int Size = 12;

    /// <summary>Writes the nonce for <paramref name="counter"/>.</summary>
    public static void Write(ulong counter, Span<byte> nonce)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nonce.Length, Size);
        BinaryPrimitives.WriteUInt32LittleEndian(nonce, 0);
        BinaryPrimitives.WriteUInt64LittleEndian(nonce[4..], counter);
    }
}
