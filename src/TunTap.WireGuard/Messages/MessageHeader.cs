using System.Buffers.Binary;

namespace TunTap.WireGuard.Messages;

/// <summary>Reads the message type of a received datagram.</summary>
public static class MessageHeader
{
    /// <summary>The type field (one byte type and three reserved zero bytes, little-endian 32 bits).</summary>
    public const int TypeSize = 4;

    /// <summary>
    /// The message type of <paramref name="datagram"/>, or <see cref="MessageType.None"/> when it is
    /// shorter than the type field or its reserved bytes are not zero.
    /// </summary>
    public static MessageType ReadType(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length < TypeSize)
        {
            return MessageType.None;
        }

        var value = BinaryPrimitives.ReadUInt32LittleEndian(datagram);
        return value is >= 1 and <= 4 ? (MessageType)value : MessageType.None;
    }

    internal static void WriteType(Span<byte> message, MessageType type) =>
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)type);
}
