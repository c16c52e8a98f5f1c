using System.Buffers.Binary;

namespace TunTap.Wire;

/// <summary>
/// A zero-copy view of an IPv4 packet (RFC 791). <see cref="TryCreate(Span{byte}, out Ipv4Packet)"/>
/// checks version, header length and total length against the buffer once; the view then spans
/// exactly <see cref="TotalLength"/> bytes (link-layer padding is cut off). Addresses are
/// <see cref="uint"/> values read big-endian (10.0.0.1 is 0x0A000001).
/// </summary>
/// <remarks>
/// A view made from a <see cref="ReadOnlySpan{T}"/> is read-only (<see cref="IsReadOnly"/>): its
/// setters and <see cref="Span{T}"/> accessors throw <see cref="InvalidOperationException"/>; read
/// it through the <c>ReadOnly</c> accessors.
/// </remarks>
public readonly ref struct Ipv4Packet
{
    /// <summary>Byte offsets of the fields.</summary>
    public static class Field
    {
        /// <summary>Version (high nibble) and IHL in 32-bit words (low nibble).</summary>
        public const int VersionAndHeaderLength = 0;

        /// <summary>DSCP (high 6 bits) and ECN (low 2 bits).</summary>
        public const int DscpAndEcn = 1;

        /// <summary>Total length of header and payload.</summary>
        public const int TotalLength = 2;

        /// <summary>Identification.</summary>
        public const int Identification = 4;

        /// <summary>Flags (3 bits) and fragment offset (13 bits, in units of 8 bytes).</summary>
        public const int FlagsAndFragmentOffset = 6;

        /// <summary>Time to live.</summary>
        public const int TimeToLive = 8;

        /// <summary>Protocol of the payload.</summary>
        public const int Protocol = 9;

        /// <summary>Header checksum.</summary>
        public const int HeaderChecksum = 10;

        /// <summary>Source address.</summary>
        public const int Source = 12;

        /// <summary>Destination address.</summary>
        public const int Destination = 16;

        /// <summary>Start of the options, if IHL is above 5.</summary>
        public const int Options = 20;
    }

    /// <summary>Length of a header without options.</summary>
    public const int MinimumHeaderLength = 20;

    /// <summary>Largest total length the 16-bit field can express.</summary>
    public const int MaximumLength = ushort.MaxValue;

    private const ushort DontFragmentBit = 0x4000;
    private const ushort MoreFragmentsBit = 0x2000;
    private const ushort FragmentOffsetMask = 0x1FFF;

    private readonly ReadOnlySpan<byte> _buffer;
    private readonly Span<byte> _writable;

    private Ipv4Packet(Span<byte> buffer)
    {
        _buffer = buffer;
        _writable = buffer;
    }

    private Ipv4Packet(ReadOnlySpan<byte> buffer) => _buffer = buffer;

    /// <summary>True for a view made from read-only data: it can only be read.</summary>
    public bool IsReadOnly => _writable.IsEmpty;

    private Span<byte> Writable => _writable.IsEmpty
        ? throw new InvalidOperationException("this Ipv4Packet view was made from read-only data; create it from a Span<byte> to change it")
        : _writable;

    /// <summary>The packet: header and payload, <see cref="TotalLength"/> bytes.</summary>
    public Span<byte> Buffer => Writable;

    /// <summary>The packet: header and payload, <see cref="TotalLength"/> bytes, as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyBuffer => _buffer;

    /// <summary>IP version (always 4 in a created view).</summary>
    public int Version => _buffer[Field.VersionAndHeaderLength] >> 4;

    /// <summary>Header length in bytes (IHL × 4), options included.</summary>
    public int HeaderLength => (_buffer[Field.VersionAndHeaderLength] & 0x0F) * 4;

    /// <summary>The options bytes (empty when IHL is 5).</summary>
    public Span<byte> Options => Writable[Field.Options..HeaderLength];

    /// <summary>The options bytes (empty when IHL is 5), as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyOptions => _buffer[Field.Options..HeaderLength];

    /// <summary>Differentiated services code point (6 bits).</summary>
    public byte Dscp
    {
        get => (byte)(_buffer[Field.DscpAndEcn] >> 2);
        set => Writable[Field.DscpAndEcn] = (byte)((value << 2) | (_buffer[Field.DscpAndEcn] & 0x03));
    }

    /// <summary>Explicit congestion notification (2 bits).</summary>
    public byte Ecn
    {
        get => (byte)(_buffer[Field.DscpAndEcn] & 0x03);
        set => Writable[Field.DscpAndEcn] = (byte)((_buffer[Field.DscpAndEcn] & 0xFC) | (value & 0x03));
    }

    /// <summary>Total length of header and payload (equals the view's length).</summary>
    public ushort TotalLength => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.TotalLength..]);

    /// <summary>Identification.</summary>
    public ushort Identification
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Identification..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(Writable[Field.Identification..], value);
    }

    /// <summary>The DF (don't fragment) flag.</summary>
    public bool DontFragment
    {
        get => (FlagsAndOffset & DontFragmentBit) != 0;
        set => FlagsAndOffset = (ushort)(value ? FlagsAndOffset | DontFragmentBit : FlagsAndOffset & ~DontFragmentBit);
    }

    /// <summary>The MF (more fragments) flag.</summary>
    public bool MoreFragments
    {
        get => (FlagsAndOffset & MoreFragmentsBit) != 0;
        set => FlagsAndOffset = (ushort)(value ? FlagsAndOffset | MoreFragmentsBit : FlagsAndOffset & ~MoreFragmentsBit);
    }

    /// <summary>Fragment offset in units of 8 bytes (13 bits).</summary>
    public ushort FragmentOffset
    {
        get => (ushort)(FlagsAndOffset & FragmentOffsetMask);
        set => FlagsAndOffset = (ushort)((FlagsAndOffset & ~FragmentOffsetMask) | (value & FragmentOffsetMask));
    }

    /// <summary>True when this is a fragment (MF set or a non-zero offset).</summary>
    public bool IsFragment => MoreFragments || FragmentOffset != 0;

    /// <summary>Time to live.</summary>
    public byte TimeToLive
    {
        get => _buffer[Field.TimeToLive];
        set => Writable[Field.TimeToLive] = value;
    }

    /// <summary>Protocol of the payload (see <see cref="IpProtocol"/>).</summary>
    public byte Protocol
    {
        get => _buffer[Field.Protocol];
        set => Writable[Field.Protocol] = value;
    }

    /// <summary>The header checksum field.</summary>
    public ushort HeaderChecksum
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.HeaderChecksum..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(Writable[Field.HeaderChecksum..], value);
    }

    /// <summary>Source address.</summary>
    public uint Source
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_buffer[Field.Source..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(Writable[Field.Source..], value);
    }

    /// <summary>Destination address.</summary>
    public uint Destination
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_buffer[Field.Destination..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(Writable[Field.Destination..], value);
    }

    /// <summary>The payload: from the end of the header to <see cref="TotalLength"/>.</summary>
    public Span<byte> Payload => Writable[HeaderLength..];

    /// <summary>The payload: from the end of the header to <see cref="TotalLength"/>, as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyPayload => _buffer[HeaderLength..];

    private ushort FlagsAndOffset
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.FlagsAndFragmentOffset..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(Writable[Field.FlagsAndFragmentOffset..], value);
    }

    /// <summary>Checks version, header length and total length against <paramref name="buffer"/>.</summary>
    public static WireError Validate(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length < MinimumHeaderLength)
        {
            return WireError.Truncated;
        }

        var headerLength = (buffer[Field.VersionAndHeaderLength] & 0x0F) * 4;
        if (buffer[Field.VersionAndHeaderLength] >> 4 != 4 || headerLength < MinimumHeaderLength)
        {
            return WireError.Malformed;
        }

        if (headerLength > buffer.Length)
        {
            return WireError.Truncated;
        }

        var totalLength = BinaryPrimitives.ReadUInt16BigEndian(buffer[Field.TotalLength..]);
        if (totalLength < headerLength)
        {
            return WireError.Malformed;
        }

        return totalLength > buffer.Length ? WireError.Truncated : WireError.None;
    }

    /// <summary>Creates a view of the first <see cref="TotalLength"/> bytes when <paramref name="buffer"/> holds a valid packet.</summary>
    public static bool TryCreate(Span<byte> buffer, out Ipv4Packet packet)
    {
        var valid = TryCreate((ReadOnlySpan<byte>)buffer, out packet);
        packet = valid ? new Ipv4Packet(buffer[..packet._buffer.Length]) : default;
        return valid;
    }

    /// <summary>Creates a read-only view (see the remarks on the type) when <paramref name="buffer"/> passes <see cref="Validate"/>.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> buffer, out Ipv4Packet packet)
    {
        if (Validate(buffer) != WireError.None)
        {
            packet = default;
            return false;
        }

        packet = new Ipv4Packet(buffer[..BinaryPrimitives.ReadUInt16BigEndian(buffer[Field.TotalLength..])]);
        return true;
    }


    /// <summary>The header checksum the header should carry (computed with the field taken as zero).</summary>
    public ushort ComputeHeaderChecksum() => InternetChecksum.ComputeWithoutField(0, _buffer[..HeaderLength], Field.HeaderChecksum);

    /// <summary>Computes the header checksum and stores it.</summary>
    public void FillHeaderChecksum() => HeaderChecksum = ComputeHeaderChecksum();

    /// <summary>True when the header checksum is correct.</summary>
    public bool VerifyHeaderChecksum() => InternetChecksum.IsValid(InternetChecksum.Add(0, _buffer[..HeaderLength]));

    /// <summary>The pseudo header sum for the payload of this packet (its protocol and length).</summary>
    public ulong PseudoHeaderSum() =>
        InternetChecksum.PseudoHeaderSum(Source, Destination, Protocol, (ushort)(_buffer.Length - HeaderLength));

    /// <summary>
    /// Writes a 20-byte header (no options) for a payload of <paramref name="payloadLength"/> bytes,
    /// with the checksum filled, and returns a view of header plus payload (the payload bytes are
    /// left as they are, to be written afterwards).
    /// </summary>
    /// <exception cref="ArgumentException">The buffer cannot hold the packet or the packet exceeds 65535 bytes.</exception>
    public static Ipv4Packet WriteHeader(Span<byte> buffer, uint source, uint destination, byte protocol, int payloadLength, byte timeToLive = 64, ushort identification = 0, bool dontFragment = false)
    {
        var total = MinimumHeaderLength + payloadLength;
        if (payloadLength < 0 || total > MaximumLength || total > buffer.Length)
        {
            throw new ArgumentException($"an IPv4 packet of {total} bytes does not fit the buffer ({buffer.Length} bytes) or the 65535-byte limit", nameof(buffer));
        }

        buffer[Field.VersionAndHeaderLength] = 0x45;
        buffer[Field.DscpAndEcn] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.TotalLength..], (ushort)total);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.Identification..], identification);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.FlagsAndFragmentOffset..], dontFragment ? DontFragmentBit : (ushort)0);
        buffer[Field.TimeToLive] = timeToLive;
        buffer[Field.Protocol] = protocol;
        BinaryPrimitives.WriteUInt32BigEndian(buffer[Field.Source..], source);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[Field.Destination..], destination);
        var packet = new Ipv4Packet(buffer[..total]);
        packet.FillHeaderChecksum();
        return packet;
    }
}
