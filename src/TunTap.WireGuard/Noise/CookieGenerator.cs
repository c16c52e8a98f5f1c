using TunTap.WireGuard.Crypto;
using TunTap.WireGuard.Messages;

namespace TunTap.WireGuard.Noise;

/// <summary>
/// The initiator's half of the cookie mechanism, one per peer: adds MAC1 (and MAC2 while a cookie
/// received from the peer is fresh) to our handshake messages, and opens cookie replies, which
/// are bound to the MAC1 of the last message we sent. Thread-safe.
/// </summary>
public sealed class CookieGenerator
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly byte[] _mac1Key = new byte[32];
    private readonly byte[] _cookieKey = new byte[32];
    private readonly byte[] _cookie = new byte[Blake2s.MacSize];
    private readonly byte[] _lastMac1 = new byte[Blake2s.MacSize];
    private long _cookieReceived;
    private bool _hasCookie;
    private bool _hasLastMac1;

    /// <summary>Creates the generator for messages to the peer <paramref name="peerPublicKey"/>.</summary>
    public CookieGenerator(WireGuardKey peerPublicKey, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        Span<byte> key = stackalloc byte[WireGuardKey.Size];
        peerPublicKey.CopyTo(key);
        MessageMacs.DeriveMac1Key(key, _mac1Key);
        MessageMacs.DeriveCookieKey(key, _cookieKey);
    }

    /// <summary>True while a cookie from the peer is fresh enough to send MAC2.</summary>
    public bool HasFreshCookie
    {
        get
        {
            lock (_lock)
            {
                return IsCookieFresh();
            }
        }
    }

    /// <summary>Writes MAC1, and MAC2 when a fresh cookie is held (else zeros), into a handshake message.</summary>
    public void AddMacs(Span<byte> message)
    {
        MessageMacs.WriteMac1(_mac1Key, message);
        var mac2 = message.Slice(MessageMacs.Mac2Offset(message.Length), MessageMacs.MacSize);
        lock (_lock)
        {
            message.Slice(MessageMacs.Mac1Offset(message.Length), MessageMacs.MacSize).CopyTo(_lastMac1);
            _hasLastMac1 = true;
            if (IsCookieFresh())
            {
                MessageMacs.WriteMac2(_cookie, message);
            }
            else
            {
                mac2.Clear();
            }
        }
    }

    /// <summary>Opens a cookie reply to our last message; false when it does not authenticate.</summary>
    public bool ConsumeReply(ReadOnlySpan<byte> reply)
    {
        if (reply.Length != CookieReplyMessage.Size || MessageHeader.ReadType(reply) != MessageType.CookieReply)
        {
            return false;
        }

        var nonce = reply.Slice(CookieReplyMessage.Field.Nonce, CookieReplyMessage.NonceSize);
        var sealedCookie = reply.Slice(CookieReplyMessage.Field.EncryptedCookie, CookieReplyMessage.EncryptedCookieSize);
        Span<byte> cookie = stackalloc byte[Blake2s.MacSize];
        lock (_lock)
        {
            if (!_hasLastMac1 || !XChaChaPoly.Open(_cookieKey, nonce, sealedCookie, _lastMac1, cookie))
            {
                return false;
            }

            cookie.CopyTo(_cookie);
            _cookieReceived = _time.GetTimestamp();
            _hasCookie = true;
            _hasLastMac1 = false;
            return true;
        }
    }

    private bool IsCookieFresh() => _hasCookie && _time.GetElapsedTime(_cookieReceived) < CookieChecker.SecretLifetime;
}
