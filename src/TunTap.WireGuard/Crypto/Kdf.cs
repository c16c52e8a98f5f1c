namespace TunTap.WireGuard.Crypto;

/// <summary>
/// The HKDF-style key derivation of the WireGuard paper (§5.4): <c>Kdf1</c>, <c>Kdf2</c> and
/// <c>Kdf3</c>, each returning 1, 2 or 3 32-byte keys from a chaining key and an input.
/// τ0 = HMAC(key, input), τ1 = HMAC(τ0, 0x1), τi = HMAC(τ0, τ(i-1) || i).
/// </summary>
public static class Kdf
{
    /// <summary>Size of every derived key.</summary>
    public const int KeySize = Blake2s.HashSize;

    /// <summary><c>Kdf1(key, input)</c>.</summary>
    public static void Derive(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> first) =>
        Derive(key, input, first, [], []);

    /// <summary><c>Kdf2(key, input)</c>.</summary>
    public static void Derive(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> first, Span<byte> second) =>
        Derive(key, input, first, second, []);

    /// <summary><c>Kdf3(key, input)</c>. Outputs may alias <paramref name="key"/>.</summary>
    public static void Derive(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> first, Span<byte> second, Span<byte> third)
    {
        Span<byte> secret = stackalloc byte[KeySize];
        HmacBlake2s.Compute(key, input, secret);

        Span<byte> previous = stackalloc byte[KeySize];
        Span<byte> counter = stackalloc byte[1];
        counter[0] = 1;
        HmacBlake2s.Compute(secret, counter, previous);
        previous.CopyTo(first);

        if (!second.IsEmpty)
        {
            counter[0] = 2;
            HmacBlake2s.Compute(secret, previous, counter, previous);
            previous.CopyTo(second);
        }

        if (!third.IsEmpty)
        {
            counter[0] = 3;
            HmacBlake2s.Compute(secret, previous, counter, previous);
            previous.CopyTo(third);
        }

        secret.Clear();
        previous.Clear();
    }
}
