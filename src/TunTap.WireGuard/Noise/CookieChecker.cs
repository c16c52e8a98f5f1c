using System.Security.Cryptography;
using TunTap.WireGuard.Crypto;
using TunTap.WireGuard.Messages;

namespace TunTap.WireGuard.Noise;

/// <summary>
/// The responder's half of the cookie mechanism (paper §5.4.7): checks MAC1 of incoming handshake
/// messages, checks MAC2 when under load, and builds cookie replies. The cookie is
/// <c>MAC(Rm, source address)</c> with a random secret Rm renewed every two minutes. Thread-safe.
/// </summary>
public sealed class CookieChecker
{
    /// <summary>How long a cookie secret (and so a cookie) stays valid.</summary>
    public static readonly TimeSpan SecretLifetime = TimeSpan.FromSeconds(120);

    private readonly Lock _lock = new();
    private readonly NoiseIdentity _identity;
    private readonly TimeProvider _time;
    private readonly RandomFill _random;
    private readonly byte[] _secret = new byte[32];
    private long _secretCreated;
    private bool _hasSecret;

    /// <summary>Creates the checker for messages sent to <paramref name="identity"/>.</summary>
    public CookieChecker(NoiseIdentity identity, TimeProvider time, RandomFill random)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(random);
        _identity = identity;
        _time = time;
        _random = random;
    }

    /// <summary>True when MAC1 of the handshake message is right for our public key.</summary>
    public bool CheckMac1(ReadOnlySpan<byte> message) => MessageMacs.VerifyMac1(_identity.Mac1Key, message);

    /// <summary>True when MAC2 proves the sender holds a current cookie for <paramref name="source"/>.</summary>
    /// <param name="message">The handshake message.</param>
    /// <param name="source">The sender's address bytes followed by its port (big-endian).</param>
    public bool CheckMac2(ReadOnlySpan<byte> message, ReadOnlySpan<byte> source)
    {
        Span<byte> cookie = stackalloc byte[Blake2s.MacSize];
        lock (_lock)
        {
            if (!_hasSecret || _time.GetElapsedTime(_secretCreated) > SecretLifetime)
            {
                return false;
            }

            Blake2s.Mac(_secret, source, cookie);
        }

        return MessageMacs.VerifyMac2(cookie, message);
    }

    /// <summary>
    /// Writes a cookie reply to <paramref name="message"/> (an initiation or response whose MAC1 was
    /// valid) into <paramref name="buffer"/>.
    /// </summary>
    /// <param name="message">The handshake message being answered.</param>
    /// <param name="senderIndex">That message's sender index.</param>
    /// <param name="source">The sender's address bytes followed by its port (big-endian).</param>
    /// <param name="buffer">At least <see cref="CookieReplyMessage.Size"/> bytes.</param>
    public void CreateReply(ReadOnlySpan<byte> message, uint senderIndex, ReadOnlySpan<byte> source, Span<byte> buffer)
    {
        Span<byte> cookie = stackalloc byte[Blake2s.MacSize];
        lock (_lock)
        {
            if (!_hasSecret || _time.GetElapsedTime(_secretCreated) > SecretLifetime)
            {
                _random(_secret);
                _secretCreated = _time.GetTimestamp();
                _hasSecret = true;
            }

            Blake2s.Mac(_secret, source, cookie);
        }

        var reply = CookieReplyMessage.Create(buffer);
        reply.ReceiverIndex = senderIndex;
        _random(reply.Nonce);
        var mac1 = message.Slice(MessageMacs.Mac1Offset(message.Length), MessageMacs.MacSize);
        XChaChaPoly.Seal(_identity.CookieKey, reply.Nonce, cookie, mac1, reply.EncryptedCookie);
        CryptographicOperations.ZeroMemory(cookie);
    }
}
