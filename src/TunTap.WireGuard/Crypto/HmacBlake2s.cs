namespace TunTap.WireGuard.Crypto;

/// <summary>
/// HMAC (RFC 2104) over BLAKE2s-256 with its 64-byte block: WireGuard's <c>HMAC</c>, the building
/// block of <see cref="Kdf"/>. Note that WireGuard does not use BLAKE2s's own keyed mode here.
/// </summary>
public static class HmacBlake2s
{
    private const byte InnerPad = 0x36;
    private const byte OuterPad = 0x5c;

    /// <summary>Writes <c>HMAC(key, input)</c> (32 bytes) to <paramref name="output"/>.</summary>
    public static void Compute(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> output) =>
        Compute(key, input, [], output);

    /// <summary>Writes <c>HMAC(key, first || second)</c> to <paramref name="output"/>.</summary>
    public static void Compute(ReadOnlySpan<byte> key, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> output)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(output.Length, Blake2s.HashSize);
        Span<byte> block = stackalloc byte[Blake2s.BlockSize];
        block.Clear();
        if (key.Length > Blake2s.BlockSize)
        {
            Blake2s.Hash(key, block);
        }
        else
        {
            key.CopyTo(block);
        }

        Span<byte> pad = stackalloc byte[Blake2s.BlockSize];
        for (var i = 0; i < pad.Length; i++)
        {
            pad[i] = (byte)(block[i] ^ InnerPad);
        }

        Span<byte> inner = stackalloc byte[Blake2s.HashSize];
        Blake2s.Hash(pad, first, second, inner);

        for (var i = 0; i < pad.Length; i++)
        {
            pad[i] = (byte)(block[i] ^ OuterPad);
        }

        Blake2s.Hash(pad, inner, output);
        block.Clear();
        pad.Clear();
        inner.Clear();
    }
}
