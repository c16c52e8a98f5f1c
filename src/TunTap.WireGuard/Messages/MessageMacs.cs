using System.Security.Cryptography;
using TunTap.WireGuard.Crypto;

namespace TunTap.WireGuard.Messages;

/// <summary>
/// MAC1 and MAC2 of handshake messages (paper §5.4.4). Both sit in the last 32 bytes of an
/// initiation or response: <c>mac1 = MAC(HASH("mac1----" || Spub_receiver), msg before mac1)</c>
/// and <c>mac2 = MAC(cookie, msg before mac2)</c>, or zeros without a fresh cookie.
/// </summary>
public static class MessageMacs
{
    /// <summary>Length of each MAC.</summary>
    public const int MacSize = Blake2s.MacSize;

    /// <summary>Label hashed with the receiver's public key to key MAC1.</summary>
    public static ReadOnlySpan<byte> Mac1Label => "mac1----"u8;

    /// <summary>Label hashed with the receiver's public key to key the cookie-reply XAEAD.</summary>
    public static ReadOnlySpan<byte> CookieLabel => "cookie--"u8;

    /// <summary>Writes <c>HASH("mac1----" || publicKey)</c>, the MAC1 key of messages to <paramref name="publicKey"/>.</summary>
    public static void DeriveMac1Key(ReadOnlySpan<byte> publicKey, Span<byte> key) => Blake2s.Hash(Mac1Label, publicKey, key);

    /// <summary>Writes <c>HASH("cookie--" || publicKey)</c>, the key sealing cookies for <paramref name="publicKey"/>'s handshakes.</summary>
    public static void DeriveCookieKey(ReadOnlySpan<byte> publicKey, Span<byte> key) => Blake2s.Hash(CookieLabel, publicKey, key);

    /// <summary>The bytes MAC1 covers: everything before the two MACs.</summary>
    public static int Mac1Offset(int messageLength) => messageLength - (2 * MacSize);

    /// <summary>The bytes MAC2 covers: everything before MAC2.</summary>
    public static int Mac2Offset(int messageLength) => messageLength - MacSize;

    /// <summary>Computes and stores MAC1 in a handshake message.</summary>
    public static void WriteMac1(ReadOnlySpan<byte> mac1Key, Span<byte> message)
    {
        var offset = Mac1Offset(message.Length);
        Blake2s.Mac(mac1Key, message[..offset], message.Slice(offset, MacSize));
    }

    /// <summary>Computes and stores MAC2 in a handshake message from a cookie.</summary>
    public static void WriteMac2(ReadOnlySpan<byte> cookie, Span<byte> message)
    {
        var offset = Mac2Offset(message.Length);
        Blake2s.Mac(cookie, message[..offset], message.Slice(offset, MacSize));
    }

    /// <summary>Checks MAC1 in constant time.</summary>
    public static bool VerifyMac1(ReadOnlySpan<byte> mac1Key, ReadOnlySpan<byte> message)
    {
        var offset = Mac1Offset(message.Length);
        Span<byte> expected = stackalloc byte[MacSize];
        Blake2s.Mac(mac1Key, message[..offset], expected);
        return CryptographicOperations.FixedTimeEquals(expected, message.Slice(offset, MacSize));
    }

    /// <summary>Checks MAC2 against <paramref name="cookie"/> in constant time.</summary>
    public static bool VerifyMac2(ReadOnlySpan<byte> cookie, ReadOnlySpan<byte> message)
    {
        var offset = Mac2Offset(message.Length);
        Span<byte> expected = stackalloc byte[MacSize];
        Blake2s.Mac(cookie, message[..offset], expected);
        return CryptographicOperations.FixedTimeEquals(expected, message.Slice(offset, MacSize));
    }
}
