using System.Buffers.Binary;

namespace TunTap.WireGuard.Messages;

/// <summary>
/// A zero-copy view of a cookie reply (message type 3, exactly <see cref="Size"/> bytes): the
/// index of the handshake message it answers, a random 24-byte nonce and the cookie sealed with
/// XChaCha20-Poly1305 (16 + 16 bytes).
/// </summary>
public readonly ref struct CookieReplyMessage
{
    /// <summary>Byte offsets of the fields.</summary>
    public static class Field
    {
        /// <summary>Message type and reserved bytes.</summary>
        public const int Type = 0;

        /// <summary>The sender index of the message that was answered (little-endian).</summary>
        public const int ReceiverIndex = 4;

        /// <summary>The XChaCha20 nonce.</summary>
        public const int Nonce = 8;

        /// <summary>The sealed cookie.</summary>
        public const int EncryptedCookie = 32;
    }

    /// <summary>Length of the message.</summary>
    public const int Size = 64;

    /// <summary>Length of the nonce.</summary>
    public const int NonceSize = 24;

    /// <summary>Length of the sealed cookie.</summary>
    public const int EncryptedCookieSize = 32;

    private readonly Span<byte> _buffer;

    private CookieReplyMessage(Span<byte> buffer) => _buffer = buffer;

    /// <summary>The message bytes.</summary>
    public Span<byte> Buffer => _buffer;

    /// <summary>The index of the answered message's sender.</summary>
    public uint ReceiverIndex
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_buffer[Field.ReceiverIndex..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_buffer[Field.ReceiverIndex..], value);
    }

    /// <summary>The nonce.</summary>
    public Span<byte> Nonce => _buffer.Slice(Field.Nonce, NonceSize);

    /// <summary>The sealed cookie.</summary>
    public Span<byte> EncryptedCookie => _buffer.Slice(Field.EncryptedCookie, EncryptedCookieSize);

    /// <summary>A view of a received message: false unless it is exactly <see cref="Size"/> bytes of type 3.</summary>
    public static bool TryCreate(Span<byte> buffer, out CookieReplyMessage message)
    {
        message = default;
        if (buffer.Length != Size || MessageHeader.ReadType(buffer) != MessageType.CookieReply)
        {
            return false;
        }

        message = new CookieReplyMessage(buffer);
        return true;
    }

    /// <summary>Starts a message in the first <see cref="Size"/> bytes of <paramref name="buffer"/>: zeroed, with its type set.</summary>
    public static CookieReplyMessage Create(Span<byte> buffer)
    {
        var span = buffer[..Size];
        span.Clear();
        MessageHeader.WriteType(span, MessageType.CookieReply);
        return new CookieReplyMessage(span);
    }
}
