using System.Buffers.Binary;

namespace TunTap.Tunnel;

/// <summary>
/// The tunnel frame format. Every frame starts with a <see cref="HeaderSize"/>-byte header:
/// type (1 byte), flags (1 byte), payload length (big-endian 16 bits). Over TCP frames follow
/// each other in the byte stream; over UDP each datagram is exactly one frame.
/// </summary>
public static class TunnelFrame
{
    /// <summary>Bytes in a frame header.</summary>
    public const int HeaderSize = 4;

    /// <summary>The largest payload the 16-bit length can announce.</summary>
    public const int MaxPayloadLimit = ushort.MaxValue;

    /// <summary>Byte offsets of the header fields.</summary>
    public static class Field
    {
        /// <summary>1 byte, <see cref="TunnelFrameType"/>.</summary>
        public const int Type = 0;

        /// <summary>1 byte, <see cref="TunnelFrameFlags"/>.</summary>
        public const int Flags = 1;

        /// <summary>2 bytes, big-endian payload length.</summary>
        public const int Length = 2;
    }

    /// <summary>Writes a header to the start of <paramref name="destination"/>.</summary>
    public static void WriteHeader(Span<byte> destination, TunnelFrameType type, TunnelFrameFlags flags, int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, HeaderSize);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, MaxPayloadLimit);
        destination[Field.Type] = (byte)type;
        destination[Field.Flags] = (byte)flags;
        BinaryPrimitives.WriteUInt16BigEndian(destination[Field.Length..], (ushort)length);
    }

    /// <summary>Reads a header from the start of <paramref name="source"/>; false when fewer than <see cref="HeaderSize"/> bytes.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> source, out TunnelFrameHeader header)
    {
        if (source.Length < HeaderSize)
        {
            header = default;
            return false;
        }

        header = new TunnelFrameHeader(
            (TunnelFrameType)source[Field.Type],
            (TunnelFrameFlags)source[Field.Flags],
            BinaryPrimitives.ReadUInt16BigEndian(source[Field.Length..]));
        return true;
    }

    /// <summary>Writes a hello (or hello-reject) frame; returns its length (<see cref="HeaderSize"/> + <see cref="TunnelHello.Size"/>).</summary>
    public static int WriteHello(Span<byte> destination, TunnelFrameType type, TunnelHello hello)
    {
        if (type is not (TunnelFrameType.Hello or TunnelFrameType.HelloReject))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "a hello frame is Hello or HelloReject");
        }

        WriteHeader(destination, type, TunnelFrameFlags.None, TunnelHello.Size);
        hello.Encode(destination[HeaderSize..]);
        return HeaderSize + TunnelHello.Size;
    }

    /// <summary>
    /// Writes a data frame for <paramref name="packet"/> into <paramref name="destination"/>,
    /// compressed when <paramref name="compress"/> is set and compression makes it smaller.
    /// <paramref name="destination"/> needs <see cref="HeaderSize"/> + packet length bytes.
    /// </summary>
    /// <returns>The frame length.</returns>
    public static int WriteData(ReadOnlySpan<byte> packet, Span<byte> destination, bool compress)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(packet.Length, MaxPayloadLimit);
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, HeaderSize + packet.Length);
        var payload = destination[HeaderSize..];
        if (compress && PacketCompressor.TryCompress(packet, payload, out var written))
        {
            WriteHeader(destination, TunnelFrameType.Data, TunnelFrameFlags.Compressed, written);
            return HeaderSize + written;
        }

        packet.CopyTo(payload);
        WriteHeader(destination, TunnelFrameType.Data, TunnelFrameFlags.None, packet.Length);
        return HeaderSize + packet.Length;
    }

    /// <summary>
    /// Turns a data frame's payload back into the packet, in <paramref name="destination"/> (whose
    /// length is the largest packet allowed). On failure <paramref name="reason"/> says why.
    /// </summary>
    public static bool TryReadData(TunnelFrameFlags flags, ReadOnlySpan<byte> payload, Span<byte> destination, out int length, out TunnelDropReason reason)
    {
        reason = default;
        if ((flags & TunnelFrameFlags.Compressed) != 0)
        {
            if (PacketCompressor.TryDecompress(payload, destination, out length))
            {
                return true;
            }

            reason = TunnelDropReason.Decompress;
            return false;
        }

        if (payload.Length > destination.Length)
        {
            length = 0;
            reason = TunnelDropReason.Oversize;
            return false;
        }

        payload.CopyTo(destination);
        length = payload.Length;
        return true;
    }
}
