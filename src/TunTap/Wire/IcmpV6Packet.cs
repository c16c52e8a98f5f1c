using System.Buffers.Binary;

namespace TunTap.Wire;

/// <summary>
/// A zero-copy view of an ICMPv6 message (RFC 4443), with the fields of echo and of neighbor
/// solicitation/advertisement (RFC 4861). Every message has at least 8 bytes; the neighbor
/// discovery accessors (<see cref="TargetAddress"/>, <see cref="NdpOptions"/>) are empty when the
/// message is shorter than 24 bytes. The checksum covers the IPv6 pseudo header.
/// </summary>
/// <remarks>
/// A view made from a <see cref="ReadOnlySpan{T}"/> is read-only (<see cref="IsReadOnly"/>): its
/// setters and <see cref="Span{T}"/> accessors throw <see cref="InvalidOperationException"/>; read
/// it through the <c>ReadOnly</c> accessors.
/// </remarks>
public readonly ref struct IcmpV6Packet
{
    /// <summary>Byte offsets of the fields.</summary>
    public static class Field
    {
        /// <summary>Message type.</summary>
        public const int Type = 0;

        /// <summary>Code.</summary>
        public const int Code = 1;

        /// <summary>Checksum (pseudo header included).</summary>
        public const int Checksum = 2;

        /// <summary>Echo identifier.</summary>
        public const int Identifier = 4;

        /// <summary>Echo sequence number.</summary>
        public const int SequenceNumber = 6;

        /// <summary>Neighbor advertisement flags R, S, O (high bits).</summary>
        public const int NeighborFlags = 4;

        /// <summary>Start of the echo data.</summary>
        public const int Data = 8;

        /// <summary>Neighbor solicitation/advertisement target address (16 bytes).</summary>
        public const int TargetAddress = 8;

        /// <summary>Start of the neighbor discovery options in NS/NA.</summary>
        public const int NdpOptions = 24;
    }

    /// <summary>Length of the header every message has.</summary>
    public const int HeaderLength = 8;

    /// <summary>Length of a neighbor solicitation or advertisement without options.</summary>
    public const int NeighborMessageLength = 24;

    /// <summary>Length of a link-layer address option for Ethernet.</summary>
    public const int LinkLayerAddressOptionLength = 8;

    private const byte RouterBit = 0x80;
    private const byte SolicitedBit = 0x40;
    private const byte OverrideBit = 0x20;

    private readonly ReadOnlySpan<byte> _buffer;
    private readonly Span<byte> _writable;

    private IcmpV6Packet(Span<byte> buffer)
    {
        _buffer = buffer;
        _writable = buffer;
    }

    private IcmpV6Packet(ReadOnlySpan<byte> buffer) => _buffer = buffer;

    /// <summary>True for a view made from read-only data: it can only be read.</summary>
    public bool IsReadOnly => _writable.IsEmpty;

    private Span<byte> Writable => _writable.IsEmpty
        ? throw new InvalidOperationException("this IcmpV6Packet view was made from read-only data; create it from a Span<byte> to change it")
        : _writable;

    /// <summary>The whole message.</summary>
    public Span<byte> Buffer => Writable;

    /// <summary>The whole message, as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyBuffer => _buffer;

    /// <summary>Message type (see <see cref="IcmpV6Type"/>).</summary>
    public byte Type
    {
        get => _buffer[Field.Type];
        set => Writable[Field.Type] = value;
    }

    /// <summary>Code.</summary>
    public byte Code
    {
        get => _buffer[Field.Code];
        set => Writable[Field.Code] = value;
    }

    /// <summary>The checksum field.</summary>
    public ushort Checksum
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Checksum..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(Writable[Field.Checksum..], value);
    }

    /// <summary>Echo identifier.</summary>
    public ushort Identifier
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Identifier..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(Writable[Field.Identifier..], value);
    }

    /// <summary>Echo sequence number.</summary>
    public ushort SequenceNumber
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.SequenceNumber..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(Writable[Field.SequenceNumber..], value);
    }

    /// <summary>Echo data: everything after the 8-byte header.</summary>
    public Span<byte> Data => Writable[Field.Data..];

    /// <summary>Echo data: everything after the 8-byte header, as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyData => _buffer[Field.Data..];

    /// <summary>Neighbor advertisement R flag: the sender is a router.</summary>
    public bool RouterFlag
    {
        get => (_buffer[Field.NeighborFlags] & RouterBit) != 0;
        set => SetFlag(RouterBit, value);
    }

    /// <summary>Neighbor advertisement S flag: sent in response to a solicitation.</summary>
    public bool SolicitedFlag
    {
        get => (_buffer[Field.NeighborFlags] & SolicitedBit) != 0;
        set => SetFlag(SolicitedBit, value);
    }

    /// <summary>Neighbor advertisement O flag: override an existing cache entry.</summary>
    public bool OverrideFlag
    {
        get => (_buffer[Field.NeighborFlags] & OverrideBit) != 0;
        set => SetFlag(OverrideBit, value);
    }

    /// <summary>True when the message is long enough to be a neighbor solicitation/advertisement.</summary>
    public bool HasTargetAddress => _buffer.Length >= NeighborMessageLength;

    /// <summary>The NS/NA target address (16 bytes), or empty when the message is too short.</summary>
    public Span<byte> TargetAddress => HasTargetAddress ? Writable.Slice(Field.TargetAddress, Ipv6Packet.AddressLength) : [];

    /// <summary>The NS/NA target address (16 bytes), or empty when the message is too short, as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyTargetAddress => HasTargetAddress ? _buffer.Slice(Field.TargetAddress, Ipv6Packet.AddressLength) : [];

    /// <summary>The NS/NA options, or empty when the message is too short.</summary>
    public Span<byte> NdpOptions => HasTargetAddress ? Writable[Field.NdpOptions..] : [];

    /// <summary>The NS/NA options, or empty when the message is too short, as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyNdpOptions => HasTargetAddress ? _buffer[Field.NdpOptions..] : [];

    /// <summary>Checks that <paramref name="buffer"/> holds at least the 8-byte header.</summary>
    public static WireError Validate(ReadOnlySpan<byte> buffer) =>
        buffer.Length < HeaderLength ? WireError.Truncated : WireError.None;

    /// <summary>Creates a view of the whole of <paramref name="buffer"/> when it holds at least the header.</summary>
    public static bool TryCreate(Span<byte> buffer, out IcmpV6Packet packet)
    {
        var valid = TryCreate((ReadOnlySpan<byte>)buffer, out packet);
        packet = valid ? new IcmpV6Packet(buffer[..packet._buffer.Length]) : default;
        return valid;
    }

    /// <summary>Creates a read-only view (see the remarks on the type) when <paramref name="buffer"/> passes <see cref="Validate"/>.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> buffer, out IcmpV6Packet packet)
    {
        if (Validate(buffer) != WireError.None)
        {
            packet = default;
            return false;
        }

        packet = new IcmpV6Packet(buffer);
        return true;
    }


    /// <summary>
    /// True when every NS/NA option has a non-zero length that fits the message (RFC 4861 7.1.1
    /// requires discarding messages that fail this). False when the message is too short for options.
    /// </summary>
    public bool NdpOptionsAreValid()
    {
        if (!HasTargetAddress)
        {
            return false;
        }

        var options = ReadOnlyNdpOptions;
        while (options.Length > 0)
        {
            if (options.Length < 2 || options[1] == 0 || options[1] * 8 > options.Length)
            {
                return false;
            }

            options = options[(options[1] * 8)..];
        }

        return true;
    }

    /// <summary>
    /// Finds the first source or target link-layer address option (<see cref="NdpOptionType"/>) with
    /// an Ethernet address. Stops at the first malformed option.
    /// </summary>
    public bool TryGetLinkLayerAddress(byte optionType, out MacAddress address)
    {
        var options = ReadOnlyNdpOptions;
        while (options.Length >= 2 && options[1] != 0 && options[1] * 8 <= options.Length)
        {
            var length = options[1] * 8;
            if (options[0] == optionType)
            {
                address = MacAddress.Read(options[2..]);
                return true;
            }

            options = options[length..];
        }

        address = default;
        return false;
    }

    /// <summary>The checksum the message should carry, given the pseudo header sum (see <see cref="Ipv6Packet.PseudoHeaderSum"/>).</summary>
    public ushort ComputeChecksum(ulong pseudoHeaderSum) => InternetChecksum.ComputeWithoutField(pseudoHeaderSum, _buffer, Field.Checksum);

    /// <summary>Computes the checksum and stores it.</summary>
    public void FillChecksum(ulong pseudoHeaderSum) => Checksum = ComputeChecksum(pseudoHeaderSum);

    /// <summary>True when the checksum is correct for the given pseudo header sum.</summary>
    public bool VerifyChecksum(ulong pseudoHeaderSum) => InternetChecksum.IsValid(InternetChecksum.Add(pseudoHeaderSum, _buffer));

    /// <summary>
    /// Writes an echo request or reply carrying <paramref name="data"/> and returns its view. The
    /// checksum is left zero: fill it with <see cref="FillChecksum"/> once the IPv6 header is known.
    /// </summary>
    /// <exception cref="ArgumentException">The buffer cannot hold the message.</exception>
    public static IcmpV6Packet WriteEcho(Span<byte> buffer, byte type, ushort identifier, ushort sequenceNumber, ReadOnlySpan<byte> data)
    {
        if (buffer.Length < HeaderLength + data.Length)
        {
            throw new ArgumentException($"an ICMPv6 echo with {data.Length} data bytes does not fit {buffer.Length} bytes", nameof(buffer));
        }

        var packet = new IcmpV6Packet(buffer[..(HeaderLength + data.Length)])
        {
            Type = type,
            Code = 0,
            Checksum = 0,
            Identifier = identifier,
            SequenceNumber = sequenceNumber,
        };
        data.CopyTo(packet.Data);
        return packet;
    }

    /// <summary>
    /// Writes a neighbor solicitation or advertisement (<paramref name="type"/>) for
    /// <paramref name="target"/>, with a source/target link-layer address option when
    /// <paramref name="linkLayerAddress"/> is given, and returns its view (24 or 32 bytes). The NA
    /// flags are zero (set them on the view) and the checksum is left zero.
    /// </summary>
    /// <exception cref="ArgumentException">The buffer is too short or the target is not 16 bytes.</exception>
    public static IcmpV6Packet WriteNeighborMessage(Span<byte> buffer, byte type, ReadOnlySpan<byte> target, MacAddress? linkLayerAddress)
    {
        var length = NeighborMessageLength + (linkLayerAddress.HasValue ? LinkLayerAddressOptionLength : 0);
        if (buffer.Length < length || target.Length != Ipv6Packet.AddressLength)
        {
            throw new ArgumentException($"a neighbor message needs {length} bytes and a 16-byte target", nameof(buffer));
        }

        var packet = new IcmpV6Packet(buffer[..length]);
        buffer[..Field.TargetAddress].Clear();
        packet.Type = type;
        target.CopyTo(buffer[Field.TargetAddress..]);
        if (linkLayerAddress is { } mac)
        {
            buffer[Field.NdpOptions] = type == IcmpV6Type.NeighborAdvertisement ? NdpOptionType.TargetLinkLayerAddress : NdpOptionType.SourceLinkLayerAddress;
            buffer[Field.NdpOptions + 1] = 1;
            mac.WriteTo(buffer[(Field.NdpOptions + 2)..]);
        }

        return packet;
    }

    private void SetFlag(byte bit, bool value) =>
        Writable[Field.NeighborFlags] = (byte)(value ? _buffer[Field.NeighborFlags] | bit : _buffer[Field.NeighborFlags] & ~bit);
}
