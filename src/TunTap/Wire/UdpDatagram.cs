using System.Buffers.Binary;

namespace TunTap.Wire;

/// <summary>
/// A zero-copy view of a UDP datagram (RFC 768). <see cref="TryCreate(Span{byte}, out UdpDatagram)"/>
/// checks the length field against the buffer; the view then spans exactly <see cref="Length"/> bytes.
/// </summary>
/// <remarks>
/// A view made from a <see cref="ReadOnlySpan{T}"/> is read-only (<see cref="IsReadOnly"/>): its
/// setters and <see cref="Span{T}"/> accessors throw <see cref="InvalidOperationException"/>; read
/// it through the <c>ReadOnly</c> accessors.
/// </remarks>
public readonly ref struct UdpDatagram
{
    /// <summary>Byte offsets of the fields.</summary>
    public static class Field
    {
        /// <summary>Source port.</summary>
        public const int SourcePort = 0;

        /// <summary>Destination port.</summary>
        public const int DestinationPort = 2;

        /// <summary>Length of header and payload.</summary>
        public const int Length = 4;

        /// <summary>Checksum (pseudo header included; 0 = none, IPv4 only).</summary>
        public const int Checksum = 6;
    }

    /// <summary>Length of the header.</summary>
    public const int HeaderLength = 8;

    private readonly ReadOnlySpan<byte> _buffer;
    private readonly Span<byte> _writable;

    private UdpDatagram(Span<byte> buffer)
    {
        _buffer = buffer;
        _writable = buffer;
    }

    private UdpDatagram(ReadOnlySpan<byte> buffer) => _buffer = buffer;

    /// <summary>True for a view made from read-only data: it can only be read.</summary>
    public bool IsReadOnly => _writable.IsEmpty;

    private Span<byte> Writable => _writable.IsEmpty
        ? throw new InvalidOperationException("this UdpDatagram view was made from read-only data; create it from a Span<byte> to change it")
        : _writable;

    /// <summary>The datagram, <see cref="Length"/> bytes.</summary>
    public Span<byte> Buffer => Writable;

    /// <summary>The datagram, <see cref="Length"/> bytes, as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyBuffer => _buffer;

    /// <summary>Source port.</summary>
    public ushort SourcePort
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.SourcePort..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(Writable[Field.SourcePort..], value);
    }

    /// <summary>Destination port.</summary>
    public ushort DestinationPort
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.DestinationPort..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(Writable[Field.DestinationPort..], value);
    }

    /// <summary>Length of header and payload (equals the view's length).</summary>
    public ushort Length => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Length..]);

    /// <summary>The checksum field (0 means "no checksum", allowed over IPv4 only).</summary>
    public ushort Checksum
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Checksum..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(Writable[Field.Checksum..], value);
    }

    /// <summary>The payload after the 8-byte header.</summary>
    public Span<byte> Payload => Writable[HeaderLength..];

    /// <summary>The payload after the 8-byte header, as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyPayload => _buffer[HeaderLength..];

    /// <summary>Checks the length field against <paramref name="buffer"/>.</summary>
    public static WireError Validate(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length < HeaderLength)
        {
            return WireError.Truncated;
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(buffer[Field.Length..]);
        if (length < HeaderLength)
        {
            return WireError.Malformed;
        }

        return length > buffer.Length ? WireError.Truncated : WireError.None;
    }

    /// <summary>Creates a view of the first <see cref="Length"/> bytes when <paramref name="buffer"/> holds a valid datagram.</summary>
    public static bool TryCreate(Span<byte> buffer, out UdpDatagram datagram)
    {
        var valid = TryCreate((ReadOnlySpan<byte>)buffer, out datagram);
        datagram = valid ? new UdpDatagram(buffer[..datagram._buffer.Length]) : default;
        return valid;
    }

    /// <summary>Creates a read-only view (see the remarks on the type) when <paramref name="buffer"/> passes <see cref="Validate"/>.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> buffer, out UdpDatagram datagram)
    {
        if (Validate(buffer) != WireError.None)
        {
            datagram = default;
            return false;
        }

        datagram = new UdpDatagram(buffer[..BinaryPrimitives.ReadUInt16BigEndian(buffer[Field.Length..])]);
        return true;
    }


    /// <summary>The pseudo header sum for this datagram sent between IPv4 addresses.</summary>
    public ulong PseudoHeaderSum(uint source, uint destination) =>
        InternetChecksum.PseudoHeaderSum(source, destination, IpProtocol.Udp, Length);

    /// <summary>The pseudo header sum for this datagram sent between IPv6 (or IPv4, as 4 bytes) addresses.</summary>
    public ulong PseudoHeaderSum(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination) =>
        InternetChecksum.PseudoHeaderSum(source, destination, IpProtocol.Udp, Length);

    /// <summary>
    /// The checksum the datagram should carry (field taken as zero). A computed zero is returned as
    /// 0xFFFF, because zero on the wire means "no checksum".
    /// </summary>
    public ushort ComputeChecksum(ulong pseudoHeaderSum)
    {
        var checksum = InternetChecksum.ComputeWithoutField(pseudoHeaderSum, _buffer, Field.Checksum);
        return checksum == 0 ? (ushort)0xFFFF : checksum;
    }

    /// <summary>Computes the checksum and stores it.</summary>
    public void FillChecksum(ulong pseudoHeaderSum) => Checksum = ComputeChecksum(pseudoHeaderSum);

    /// <summary>
    /// True when the checksum is correct. A zero field ("no checksum") is not accepted here: IPv4
    /// callers check <see cref="Checksum"/> == 0 first.
    /// </summary>
    public bool VerifyChecksum(ulong pseudoHeaderSum) =>
        Checksum != 0 && InternetChecksum.IsValid(InternetChecksum.Add(pseudoHeaderSum, _buffer));

    /// <summary>
    /// Writes the header for a payload of <paramref name="payloadLength"/> bytes and returns the view
    /// (payload left as it is, checksum zero: fill it once the payload is written).
    /// </summary>
    /// <exception cref="ArgumentException">The buffer cannot hold the datagram or it exceeds 65535 bytes.</exception>
    public static UdpDatagram WriteHeader(Span<byte> buffer, ushort sourcePort, ushort destinationPort, int payloadLength)
    {
        var length = HeaderLength + payloadLength;
        if (payloadLength < 0 || length > ushort.MaxValue || length > buffer.Length)
        {
            throw new ArgumentException($"a UDP datagram of {length} bytes does not fit {buffer.Length} bytes", nameof(buffer));
        }

        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.SourcePort..], sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.DestinationPort..], destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.Length..], (ushort)length);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.Checksum..], 0);
        return new UdpDatagram(buffer[..length]);
    }
}
