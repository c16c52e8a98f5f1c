using System.Buffers.Binary;

namespace TunTap.WireGuard.Messages;

/// <summary>
/// A zero-copy view of a handshake initiation (message type 1, exactly <see cref="Size"/> bytes):
/// sender index, the initiator's ephemeral public key, its encrypted static key and encrypted
/// TAI64N timestamp, then MAC1 and MAC2.
/// </summary>
public readonly ref struct HandshakeInitiationMessage
{
    /// <summary>Byte offsets of the fields.</summary>
    public static class Field
    {
        /// <summary>Message type and reserved bytes.</summary>
        public const int Type = 0;

        /// <summary>The initiator's index for this handshake (little-endian).</summary>
        public const int SenderIndex = 4;

        /// <summary>The initiator's ephemeral public key, in the clear.</summary>
        public const int Ephemeral = 8;

        /// <summary>The initiator's static public key, sealed (32 + 16 bytes).</summary>
        public const int EncryptedStatic = 40;

        /// <summary>The TAI64N timestamp, sealed (12 + 16 bytes).</summary>
        public const int EncryptedTimestamp = 88;

        /// <summary>MAC1 over the bytes before it.</summary>
        public const int Mac1 = 116;

        /// <summary>MAC2 (cookie MAC) over the bytes before it, or zeros.</summary>
        public const int Mac2 = 132;
    }

    /// <summary>Length of the message.</summary>
    public const int Size = 148;

    /// <summary>Length of the sealed static key.</summary>
    public const int EncryptedStaticSize = 48;

    /// <summary>Length of the sealed timestamp.</summary>
    public const int EncryptedTimestampSize = 28;

    private readonly Span<byte> _buffer;

    private HandshakeInitiationMessage(Span<byte> buffer) => _buffer = buffer;

    /// <summary>The message bytes.</summary>
    public Span<byte> Buffer => _buffer;

    /// <summary>The initiator's index.</summary>
    public uint SenderIndex
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_buffer[Field.SenderIndex..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_buffer[Field.SenderIndex..], value);
    }

    /// <summary>The unencrypted ephemeral public key.</summary>
    public Span<byte> Ephemeral => _buffer.Slice(Field.Ephemeral, 32);

    /// <summary>The sealed static public key.</summary>
    public Span<byte> EncryptedStatic => _buffer.Slice(Field.EncryptedStatic, EncryptedStaticSize);

    /// <summary>The sealed timestamp.</summary>
    public Span<byte> EncryptedTimestamp => _buffer.Slice(Field.EncryptedTimestamp, EncryptedTimestampSize);

    /// <summary>MAC1.</summary>
    public Span<byte> Mac1 => _buffer.Slice(Field.Mac1, 16);

    /// <summary>MAC2.</summary>
    public Span<byte> Mac2 => _buffer.Slice(Field.Mac2, 16);

    /// <summary>A view of a received message: false unless it is exactly <see cref="Size"/> bytes of type 1.</summary>
    public static bool TryCreate(Span<byte> buffer, out HandshakeInitiationMessage message)
    {
        message = default;
        if (buffer.Length != Size || MessageHeader.ReadType(buffer) != MessageType.HandshakeInitiation)
        {
            return false;
        }

        message = new HandshakeInitiationMessage(buffer);
        return true;
    }

    /// <summary>Starts a message in the first <see cref="Size"/> bytes of <paramref name="buffer"/>: zeroed, with its type set.</summary>
    public static HandshakeInitiationMessage Create(Span<byte> buffer)
    {
        var span = buffer[..Size];
        span.Clear();
        MessageHeader.WriteType(span, MessageType.HandshakeInitiation);
        return new HandshakeInitiationMessage(span);
    }
}
