using System.Buffers.Binary;

namespace TunTap.WireGuard.Messages;

/// <summary>
/// A zero-copy view of a transport data message (type 4): a <see cref="HeaderSize"/>-byte header
/// (receiver index, 64-bit counter), the encrypted packet, and the 16-byte tag. The packet is
/// encrypted and decrypted in place in <see cref="Payload"/>.
/// </summary>
public readonly ref struct TransportDataMessage
{
    /// <summary>Byte offsets of the fields.</summary>
    public static class Field
    {
        /// <summary>Message type and reserved bytes.</summary>
        public const int Type = 0;

        /// <summary>The receiver's keypair index (little-endian).</summary>
        public const int ReceiverIndex = 4;

        /// <summary>The message counter, the AEAD nonce (little-endian).</summary>
        public const int Counter = 8;

        /// <summary>The encrypted packet.</summary>
        public const int Payload = 16;
    }

    /// <summary>Length of the header in front of the encrypted packet.</summary>
    public const int HeaderSize = 16;

    /// <summary>Length of the tag after the encrypted packet.</summary>
    public const int TagSize = 16;

    /// <summary>The shortest valid message: a keepalive (empty packet).</summary>
    public const int MinimumSize = HeaderSize + TagSize;

    /// <summary>Packets are zero-padded to a multiple of this before encryption.</summary>
    public const int PaddingMultiple = 16;

    private readonly Span<byte> _buffer;

    private TransportDataMessage(Span<byte> buffer) => _buffer = buffer;

    /// <summary>The whole message.</summary>
    public Span<byte> Buffer => _buffer;

    /// <summary>The receiver's index.</summary>
    public uint ReceiverIndex
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_buffer[Field.ReceiverIndex..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_buffer[Field.ReceiverIndex..], value);
    }

    /// <summary>The message counter.</summary>
    public ulong Counter
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_buffer[Field.Counter..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_buffer[Field.Counter..], value);
    }

    /// <summary>The (encrypted or decrypted) packet, without the tag.</summary>
    public Span<byte> Payload => _buffer[Field.Payload..^TagSize];

    /// <summary>The authentication tag.</summary>
    public Span<byte> Tag => _buffer[^TagSize..];

    /// <summary>A view of a received message: false unless it has a header and a tag and is of type 4.</summary>
    public static bool TryCreate(Span<byte> buffer, out TransportDataMessage message)
    {
        message = default;
        if (buffer.Length < MinimumSize || MessageHeader.ReadType(buffer) != MessageType.TransportData)
        {
            return false;
        }

        message = new TransportDataMessage(buffer);
        return true;
    }

    /// <summary>
    /// Writes a header for a payload of <paramref name="payloadLength"/> bytes (already padded)
    /// into <paramref name="buffer"/> and returns the view over header, payload and tag.
    /// </summary>
    public static TransportDataMessage Create(Span<byte> buffer, int payloadLength, uint receiverIndex, ulong counter)
    {
        var message = new TransportDataMessage(buffer[..(HeaderSize + payloadLength + TagSize)]);
        MessageHeader.WriteType(buffer, MessageType.TransportData);
        message.ReceiverIndex = receiverIndex;
        message.Counter = counter;
        return message;
    }

    /// <summary>
    /// The length of a <paramref name="packetLength"/>-byte packet after zero padding to a multiple
    /// of 16, never beyond <paramref name="mtu"/> (0: no cap); packets over the MTU are not padded.
    /// </summary>
    public static int PaddedLength(int packetLength, int mtu)
    {
        var padded = (packetLength + PaddingMultiple - 1) & ~(PaddingMultiple - 1);
        if (mtu <= 0)
        {
            return padded;
        }

        return packetLength > mtu ? packetLength : Math.Min(padded, mtu);
    }
}
