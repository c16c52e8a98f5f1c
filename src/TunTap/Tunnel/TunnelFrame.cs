using System.Buffers.Binary;

namespace TunTap.Tunnel;

/// <summary>
/// The tunnel frame format. Every frame starts with a <see cref="HeaderSize"/>-byte header:
/// type (1 byte), flags (1 byte), payload length (big-endian 16 bits). A frame with the
/// <see cref="TunnelFrameFlags.LongLength"/> flag has a <see cref="LongHeaderSize"/>-byte header
/// instead: the 16-bit field is zero and a big-endian 32-bit length follows (super packets of
/// 64 KiB plus headers do not fit 16 bits). Over TCP frames follow each other in the byte stream;
/// over UDP each datagram is exactly one frame.
/// </summary>
public static class TunnelFrame
{
    /// <summary>Bytes in a frame header.</summary>
    public const int HeaderSize = 4;

    /// <summary>Bytes in a frame header with <see cref="TunnelFrameFlags.LongLength"/>.</summary>
    public const int LongHeaderSize = 8;

    /// <summary>The largest payload the 16-bit length can announce.</summary>
    public const int MaxPayloadLimit = ushort.MaxValue;

    /// <summary>The largest payload a long header may announce (1 MiB: far above any super packet).</summary>
    public const int MaxLongPayloadLimit = 1 << 20;

    /// <summary>Byte offsets of the header fields.</summary>
    public static class Field
    {
        /// <summary>1 byte, <see cref="TunnelFrameType"/>.</summary>
        public const int Type = 0;

        /// <summary>1 byte, <see cref="TunnelFrameFlags"/>.</summary>
        public const int Flags = 1;

        /// <summary>2 bytes, big-endian payload length (zero in a long header).</summary>
        public const int Length = 2;

        /// <summary>4 bytes, big-endian payload length (long header only).</summary>
        public const int LongLength = 4;
    }

    /// <summary>The header size a frame with a payload of <paramref name="length"/> bytes needs.</summary>
    public static int HeaderSizeFor(int length) => length > MaxPayloadLimit ? LongHeaderSize : HeaderSize;

    /// <summary>
    /// Writes a header to the start of <paramref name="destination"/>: a long one (flag
    /// <see cref="TunnelFrameFlags.LongLength"/> added) when <paramref name="length"/> needs it or
    /// the flag is given. Returns the header size.
    /// </summary>
    public static int WriteHeader(Span<byte> destination, TunnelFrameType type, TunnelFrameFlags flags, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, MaxLongPayloadLimit);
        if (length > MaxPayloadLimit)
        {
            flags |= TunnelFrameFlags.LongLength;
        }

        var size = (flags & TunnelFrameFlags.LongLength) != 0 ? LongHeaderSize : HeaderSize;
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, size);
        destination[Field.Type] = (byte)type;
        destination[Field.Flags] = (byte)flags;
        if (size == LongHeaderSize)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination[Field.Length..], 0);
            BinaryPrimitives.WriteUInt32BigEndian(destination[Field.LongLength..], (uint)length);
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination[Field.Length..], (ushort)length);
        }

        return size;
    }

    /// <summary>
    /// Reads a header from the start of <paramref name="source"/>; false when it holds fewer bytes
    /// than the header needs (<see cref="HeaderSize"/>, or <see cref="LongHeaderSize"/> for a long one).
    /// A long header whose 16-bit field is not zero, or whose length does not fit an int, reads as
    /// a header of unknown type (so it is rejected as malformed).
    /// </summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> source, out TunnelFrameHeader header)
    {
        if (source.Length < HeaderSize)
        {
            header = default;
            return false;
        }

        var type = (TunnelFrameType)source[Field.Type];
        var flags = (TunnelFrameFlags)source[Field.Flags];
        var shortLength = BinaryPrimitives.ReadUInt16BigEndian(source[Field.Length..]);
        if ((flags & TunnelFrameFlags.LongLength) == 0)
        {
            header = new TunnelFrameHeader(type, flags, shortLength);
            return true;
        }

        if (source.Length < LongHeaderSize)
        {
            header = default;
            return false;
        }

        var longLength = BinaryPrimitives.ReadUInt32BigEndian(source[Field.LongLength..]);
        header = shortLength != 0 || longLength > int.MaxValue
            ? new TunnelFrameHeader(0, flags, 0)
            : new TunnelFrameHeader(type, flags, (int)longLength);
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
    /// <paramref name="flags"/> are added to the header (e.g. <see cref="TunnelFrameFlags.VnetHeader"/>).
    /// A packet above <see cref="MaxPayloadLimit"/> gets a long header.
    /// <paramref name="destination"/> needs <see cref="HeaderSizeFor"/>(packet length) + packet length bytes.
    /// </summary>
    /// <returns>The frame length.</returns>
    public static int WriteData(ReadOnlySpan<byte> packet, Span<byte> destination, bool compress, TunnelFrameFlags flags = TunnelFrameFlags.None)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(packet.Length, MaxLongPayloadLimit);
        var headerSize = HeaderSizeFor(packet.Length);
        if (headerSize == LongHeaderSize)
        {
            flags |= TunnelFrameFlags.LongLength;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, headerSize + packet.Length);
        var payload = destination[headerSize..];
        if (compress && PacketCompressor.TryCompress(packet, payload, out var written))
        {
            WriteHeader(destination, TunnelFrameType.Data, flags | TunnelFrameFlags.Compressed, written);
            return headerSize + written;
        }

        packet.CopyTo(payload);
        WriteHeader(destination, TunnelFrameType.Data, flags, packet.Length);
        return headerSize + packet.Length;
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
