using System.Buffers.Binary;

namespace TunTap.Wire;

/// <summary>
/// A zero-copy view of an IPv6 packet (RFC 8200). <see cref="TryCreate(Span{byte}, out Ipv6Packet)"/>
/// checks the version and that the payload length fits the buffer; the view then spans exactly the
/// 40-byte header plus <see cref="PayloadLength"/> bytes. Addresses are 16-byte spans.
/// </summary>
/// <remarks>
/// A view made from a <see cref="ReadOnlySpan{T}"/> is read-only (<see cref="IsReadOnly"/>): its
/// setters and <see cref="Span{T}"/> accessors throw <see cref="InvalidOperationException"/>; read
/// it through the <c>ReadOnly</c> accessors.
/// </remarks>
public readonly ref struct Ipv6Packet
{
    /// <summary>Byte offsets of the fields.</summary>
    public static class Field
    {
        /// <summary>Version (4 bits), traffic class (8 bits), flow label (20 bits).</summary>
        public const int VersionClassAndFlow = 0;

        /// <summary>Payload length (extension headers included).</summary>
        public const int PayloadLength = 4;

        /// <summary>Next header.</summary>
        public const int NextHeader = 6;

        /// <summary>Hop limit.</summary>
        public const int HopLimit = 7;

        /// <summary>Source address (16 bytes).</summary>
        public const int Source = 8;

        /// <summary>Destination address (16 bytes).</summary>
        public const int Destination = 24;
    }

    /// <summary>Length of the fixed header.</summary>
    public const int HeaderLength = 40;

    /// <summary>Length of an address.</summary>
    public const int AddressLength = 16;

    /// <summary>At most this many extension headers are skipped by <see cref="TryGetUpperLayer"/>.</summary>
    public const int MaximumExtensionHeaders = 16;

    private readonly ReadOnlySpan<byte> _buffer;
    private readonly Span<byte> _writable;

    private Ipv6Packet(Span<byte> buffer)
    {
        _buffer = buffer;
        _writable = buffer;
    }

    private Ipv6Packet(ReadOnlySpan<byte> buffer) => _buffer = buffer;

    /// <summary>True for a view made from read-only data: it can only be read.</summary>
    public bool IsReadOnly => _writable.IsEmpty;

    private Span<byte> Writable => _writable.IsEmpty
        ? throw new InvalidOperationException("this Ipv6Packet view was made from read-only data; create it from a Span<byte> to change it")
        : _writable;

    /// <summary>The packet: header and payload.</summary>
    public Span<byte> Buffer => Writable;

    /// <summary>The packet: header and payload, as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyBuffer => _buffer;

    /// <summary>IP version (always 6 in a created view).</summary>
    public int Version => _buffer[0] >> 4;

    /// <summary>Traffic class (DSCP and ECN).</summary>
    public byte TrafficClass
    {
        get => (byte)(BinaryPrimitives.ReadUInt32BigEndian(_buffer) >> 20);
        set => BinaryPrimitives.WriteUInt32BigEndian(Writable, (BinaryPrimitives.ReadUInt32BigEndian(Writable) & 0xF00F_FFFF) | ((uint)value << 20));
    }

    /// <summary>Flow label (20 bits).</summary>
    public uint FlowLabel
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_buffer) & 0x000F_FFFF;
        set => BinaryPrimitives.WriteUInt32BigEndian(Writable, (BinaryPrimitives.ReadUInt32BigEndian(Writable) & 0xFFF0_0000) | (value & 0x000F_FFFF));
    }

    /// <summary>Payload length (equals the view's length minus 40).</summary>
    public ushort PayloadLength => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.PayloadLength..]);

    /// <summary>The type of the first header after the fixed header (see <see cref="IpProtocol"/>).</summary>
    public byte NextHeader
    {
        get => _buffer[Field.NextHeader];
        set => Writable[Field.NextHeader] = value;
    }

    /// <summary>Hop limit.</summary>
    public byte HopLimit
    {
        get => _buffer[Field.HopLimit];
        set => Writable[Field.HopLimit] = value;
    }

    /// <summary>Source address (16 bytes).</summary>
    public Span<byte> Source => Writable.Slice(Field.Source, AddressLength);

    /// <summary>Source address (16 bytes), as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlySource => _buffer.Slice(Field.Source, AddressLength);

    /// <summary>Destination address (16 bytes).</summary>
    public Span<byte> Destination => Writable.Slice(Field.Destination, AddressLength);

    /// <summary>Destination address (16 bytes), as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyDestination => _buffer.Slice(Field.Destination, AddressLength);

    /// <summary>Everything after the fixed header, extension headers included.</summary>
    public Span<byte> Payload => Writable[HeaderLength..];

    /// <summary>Everything after the fixed header, extension headers included, as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyPayload => _buffer[HeaderLength..];

    /// <summary>Checks the version and that the payload length fits <paramref name="buffer"/>.</summary>
    public static WireError Validate(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length < HeaderLength)
        {
            return WireError.Truncated;
        }

        if (buffer[0] >> 4 != 6)
        {
            return WireError.Malformed;
        }

        return HeaderLength + BinaryPrimitives.ReadUInt16BigEndian(buffer[Field.PayloadLength..]) > buffer.Length
            ? WireError.Truncated
            : WireError.None;
    }

    /// <summary>Creates a view of header plus payload when <paramref name="buffer"/> holds a valid packet.</summary>
    public static bool TryCreate(Span<byte> buffer, out Ipv6Packet packet)
    {
        var valid = TryCreate((ReadOnlySpan<byte>)buffer, out packet);
        packet = valid ? new Ipv6Packet(buffer[..packet._buffer.Length]) : default;
        return valid;
    }

    /// <summary>Creates a read-only view (see the remarks on the type) when <paramref name="buffer"/> passes <see cref="Validate"/>.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> buffer, out Ipv6Packet packet)
    {
        if (Validate(buffer) != WireError.None)
        {
            packet = default;
            return false;
        }

        packet = new Ipv6Packet(buffer[..(HeaderLength + BinaryPrimitives.ReadUInt16BigEndian(buffer[Field.PayloadLength..]))]);
        return true;
    }


    /// <summary>
    /// Walks the extension headers (Hop-by-Hop, Routing, Fragment, Destination Options) to the
    /// upper-layer header. <paramref name="offset"/> is counted from the start of the packet, so
    /// <c>Buffer[offset..]</c> is the upper-layer message. A non-first fragment has no upper-layer
    /// header: the walk stops there with <paramref name="protocol"/> = <see cref="IpProtocol.Fragment"/>
    /// and <paramref name="offset"/> at the fragment header. Returns false when an extension header
    /// runs past the payload or there are more than <see cref="MaximumExtensionHeaders"/>.
    /// </summary>
    public bool TryGetUpperLayer(out byte protocol, out int offset)
    {
        protocol = NextHeader;
        offset = HeaderLength;
        for (var i = 0; i < MaximumExtensionHeaders; i++)
        {
            switch (protocol)
            {
                case IpProtocol.HopByHop or IpProtocol.Routing or IpProtocol.DestinationOptions:
                    if (_buffer.Length - offset < 8)
                    {
                        return false;
                    }

                    var length = (_buffer[offset + 1] + 1) * 8;
                    if (_buffer.Length - offset < length)
                    {
                        return false;
                    }

                    protocol = _buffer[offset];
                    offset += length;
                    break;
                case IpProtocol.Fragment:
                    if (_buffer.Length - offset < 8)
                    {
                        return false;
                    }

                    if ((BinaryPrimitives.ReadUInt16BigEndian(_buffer[(offset + 2)..]) & 0xFFF8) != 0)
                    {
                        return true;
                    }

                    protocol = _buffer[offset];
                    offset += 8;
                    break;
                default:
                    return true;
            }
        }

        return false;
    }

    /// <summary>The pseudo header sum for an upper-layer message of <paramref name="upperLayerLength"/> bytes.</summary>
    public ulong PseudoHeaderSum(byte protocol, int upperLayerLength) =>
        InternetChecksum.PseudoHeaderSum(ReadOnlySource, ReadOnlyDestination, protocol, (uint)upperLayerLength);

    /// <summary>
    /// Writes the 40-byte header for a payload of <paramref name="payloadLength"/> bytes and returns a
    /// view of header plus payload (the payload bytes are left as they are). The addresses must not
    /// overlap the header being written.
    /// </summary>
    /// <exception cref="ArgumentException">The buffer cannot hold the packet, the payload exceeds 65535 bytes, or an address is not 16 bytes.</exception>
    public static Ipv6Packet WriteHeader(Span<byte> buffer, ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte nextHeader, int payloadLength, byte hopLimit = 64)
    {
        if (source.Length != AddressLength || destination.Length != AddressLength)
        {
            throw new ArgumentException("IPv6 addresses are 16 bytes");
        }

        if (payloadLength is < 0 or > ushort.MaxValue || HeaderLength + payloadLength > buffer.Length)
        {
            throw new ArgumentException($"an IPv6 packet with a {payloadLength}-byte payload does not fit the buffer ({buffer.Length} bytes)", nameof(buffer));
        }

        BinaryPrimitives.WriteUInt32BigEndian(buffer, 0x6000_0000);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.PayloadLength..], (ushort)payloadLength);
        buffer[Field.NextHeader] = nextHeader;
        buffer[Field.HopLimit] = hopLimit;
        source.CopyTo(buffer[Field.Source..]);
        destination.CopyTo(buffer[Field.Destination..]);
        return new Ipv6Packet(buffer[..(HeaderLength + payloadLength)]);
    }
}
