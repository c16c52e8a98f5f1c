using System.Buffers.Binary;

namespace TunTap.WireGuard.Messages;

/// <summary>
/// A zero-copy view of a handshake response (message type 2, exactly <see cref="Size"/> bytes):
/// sender and receiver indexes, the responder's ephemeral public key, an empty sealed payload,
/// then MAC1 and MAC2.
/// </summary>
public readonly ref struct HandshakeResponseMessage
{
    /// <summary>Byte offsets of the fields.</summary>
    public static class Field
    {
        /// <summary>Message type and reserved bytes.</summary>
        public const int Type = 0;

        /// <summary>The responder's index (little-endian).</summary>
        public const int SenderIndex = 4;

        /// <summary>The initiator's index from the initiation (little-endian).</summary>
        public const int ReceiverIndex = 8;

        /// <summary>The responder's ephemeral public key, in the clear.</summary>
        public const int Ephemeral = 12;

        /// <summary>An empty payload, sealed: just the 16-byte tag.</summary>
        public const int EncryptedNothing = 44;

        /// <summary>MAC1 over the bytes before it.</summary>
        public const int Mac1 = 60;

        /// <summary>MAC2 over the bytes before it, or zeros.</summary>
        public const int Mac2 = 76;
    }

    /// <summary>Length of the message.</summary>
    public const int Size = 92;

    private readonly Span<byte> _buffer;

    private HandshakeResponseMessage(Span<byte> buffer) => _buffer = buffer;

    /// <summary>The message bytes.</summary>
    public Span<byte> Buffer => _buffer;

    /// <summary>The responder's index.</summary>
    public uint SenderIndex
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_buffer[Field.SenderIndex..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_buffer[Field.SenderIndex..], value);
    }

    /// <summary>The initiator's index.</summary>
    public uint ReceiverIndex
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_buffer[Field.ReceiverIndex..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_buffer[Field.ReceiverIndex..], value);
    }

    /// <summary>The unencrypted ephemeral public key.</summary>
    public Span<byte> Ephemeral => _buffer.Slice(Field.Ephemeral, 32);

    /// <summary>The sealed empty payload (its tag).</summary>
    public Span<byte> EncryptedNothing => _buffer.Slice(Field.EncryptedNothing, 16);

    /// <summary>MAC1.</summary>
    public Span<byte> Mac1 => _buffer.Slice(Field.Mac1, 16);

    /// <summary>MAC2.</summary>
    public Span<byte> Mac2 => _buffer.Slice(Field.Mac2, 16);

    /// <summary>A view of a received message: false unless it is exactly <see cref="Size"/> bytes of type 2.</summary>
    public static bool TryCreate(Span<byte> buffer, out HandshakeResponseMessage message)
    {
        message = default;
        if (buffer.Length != Size || MessageHeader.ReadType(buffer) != MessageType.HandshakeResponse)
        {
            return false;
        }

        message = new HandshakeResponseMessage(buffer);
        return true;
    }

    /// <summary>Starts a message in the first <see cref="Size"/> bytes of <paramref name="buffer"/>: zeroed, with its type set.</summary>
    public static HandshakeResponseMessage Create(Span<byte> buffer)
    {
        var span = buffer[..Size];
        span.Clear();
        MessageHeader.WriteType(span, MessageType.HandshakeResponse);
        return new HandshakeResponseMessage(span);
    }
}
