using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TunTap.WireGuard;

/// <summary>
/// A 32-byte WireGuard key (private, public or preshared) held by value, so it can key a
/// dictionary and be copied without allocating. Text form is base64, as <c>wg</c> prints it.
/// </summary>
public readonly struct WireGuardKey : IEquatable<WireGuardKey>
{
    /// <summary>Key length in bytes.</summary>
    public const int Size = 32;

    private readonly ulong _a;
    private readonly ulong _b;
    private readonly ulong _c;
    private readonly ulong _d;

    /// <summary>Copies a key from 32 bytes.</summary>
    public WireGuardKey(ReadOnlySpan<byte> bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(bytes.Length, Size);
        _a = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]);
        _d = BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]);
    }

    /// <summary>True for the all-zero key (WireGuard's "no key").</summary>
    public bool IsZero => (_a | _b | _c | _d) == 0;

    /// <summary>Parses base64 of exactly 32 bytes.</summary>
    /// <exception cref="FormatException">The text is not base64 of 32 bytes.</exception>
    public static WireGuardKey Parse(string text) =>
        TryParse(text, out var key) ? key : throw new FormatException("a WireGuard key is 44 characters of base64 (32 bytes)");

    /// <summary>Parses base64 of exactly 32 bytes.</summary>
    public static bool TryParse(string? text, out WireGuardKey key)
    {
        key = default;
        Span<byte> bytes = stackalloc byte[Size + 3];
        if (text is null || !Convert.TryFromBase64String(text.Trim(), bytes, out var written) || written != Size)
        {
            return false;
        }

        key = new WireGuardKey(bytes[..Size]);
        return true;
    }

    /// <summary>Parses 64 hexadecimal digits (the form the UAPI uses).</summary>
    public static bool TryParseHex(ReadOnlySpan<char> hex, out WireGuardKey key)
    {
        key = default;
        Span<byte> bytes = stackalloc byte[Size];
        if (hex.Length != Size * 2 || Convert.FromHexString(hex, bytes, out _, out var written) != OperationStatus.Done || written != Size)
        {
            return false;
        }

        key = new WireGuardKey(bytes);
        return true;
    }

    /// <summary>A new random, clamped Curve25519 private key (what <c>wg genkey</c> prints).</summary>
    public static WireGuardKey GeneratePrivateKey()
    {
        Span<byte> bytes = stackalloc byte[Size];
        Crypto.Curve25519.GeneratePrivateKey(bytes);
        var key = new WireGuardKey(bytes);
        CryptographicOperations.ZeroMemory(bytes);
        return key;
    }

    /// <summary>A new random 32-byte preshared key (what <c>wg genpsk</c> prints).</summary>
    public static WireGuardKey GeneratePresharedKey()
    {
        Span<byte> bytes = stackalloc byte[Size];
        RandomNumberGenerator.Fill(bytes);
        var key = new WireGuardKey(bytes);
        CryptographicOperations.ZeroMemory(bytes);
        return key;
    }

    /// <summary>The public key of this private key (what <c>wg pubkey</c> prints).</summary>
    public WireGuardKey DerivePublicKey()
    {
        Span<byte> secret = stackalloc byte[Size];
        Span<byte> pub = stackalloc byte[Size];
        CopyTo(secret);
        Crypto.Curve25519.DerivePublicKey(secret, pub);
        CryptographicOperations.ZeroMemory(secret);
        return new WireGuardKey(pub);
    }

    /// <summary>Writes the 32 bytes to <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, Size);
        BinaryPrimitives.WriteUInt64LittleEndian(destination, _a);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], _d);
    }

    /// <summary>The 32 bytes as a new array.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[Size];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>Base64, as <c>wg</c> prints keys.</summary>
    public string ToBase64()
    {
        Span<byte> bytes = stackalloc byte[Size];
        CopyTo(bytes);
        return Convert.ToBase64String(bytes);
    }

    /// <summary>Lowercase hexadecimal, as the UAPI prints keys.</summary>
    public string ToHex()
    {
        Span<byte> bytes = stackalloc byte[Size];
        CopyTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>Base64 (so log lines never contain anything but the public form the user gave).</summary>
    public override string ToString() => ToBase64();

    /// <inheritdoc/>
    public bool Equals(WireGuardKey other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is WireGuardKey other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_a, _b, _c, _d);

    /// <summary>Equality.</summary>
    public static bool operator ==(WireGuardKey left, WireGuardKey right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(WireGuardKey left, WireGuardKey right) => !left.Equals(right);
}
