using System.Buffers.Binary;

namespace TunTap.Wire;

/// <summary>
/// A zero-copy view of an Ethernet II frame (no FCS), with an optional single IEEE 802.1Q tag.
/// Created by <see cref="TryCreate(Span{byte}, out EthernetFrame)"/>, which validates the length
/// once; every accessor is then in bounds.
/// </summary>
/// <remarks>
/// A view made from a <see cref="ReadOnlySpan{T}"/> is read-only (<see cref="IsReadOnly"/>): its
/// setters and <see cref="Span{T}"/> accessors throw <see cref="InvalidOperationException"/>; read
/// it through the <c>ReadOnly</c> accessors.
/// </remarks>
public readonly ref struct EthernetFrame
{
    /// <summary>Byte offsets of the fields.</summary>
    public static class Field
    {
        /// <summary>Destination MAC address (6 bytes).</summary>
        public const int Destination = 0;

        /// <summary>Source MAC address (6 bytes).</summary>
        public const int Source = 6;

        /// <summary>EtherType, or the 802.1Q TPID 0x8100 when tagged.</summary>
        public const int EtherType = 12;

        /// <summary>802.1Q tag control information (PCP, DEI, VID) when tagged.</summary>
        public const int VlanTci = 14;

        /// <summary>EtherType after the 802.1Q tag.</summary>
        public const int InnerEtherType = 16;
    }

    /// <summary>Length of an untagged header.</summary>
    public const int UntaggedHeaderLength = 14;

    /// <summary>Length of a header with one 802.1Q tag.</summary>
    public const int TaggedHeaderLength = 18;

    private readonly ReadOnlySpan<byte> _buffer;
    private readonly Span<byte> _writable;

    private EthernetFrame(Span<byte> buffer)
    {
        _buffer = buffer;
        _writable = buffer;
    }

    private EthernetFrame(ReadOnlySpan<byte> buffer) => _buffer = buffer;

    /// <summary>True for a view made from read-only data: it can only be read.</summary>
    public bool IsReadOnly => _writable.IsEmpty;

    private Span<byte> Writable => _writable.IsEmpty
        ? throw new InvalidOperationException("this EthernetFrame view was made from read-only data; create it from a Span<byte> to change it")
        : _writable;

    /// <summary>The whole frame.</summary>
    public Span<byte> Buffer => Writable;

    /// <summary>The whole frame, as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyBuffer => _buffer;

    /// <summary>Destination MAC address.</summary>
    public MacAddress Destination
    {
        get => MacAddress.Read(_buffer[Field.Destination..]);
        set => value.WriteTo(Writable[Field.Destination..]);
    }

    /// <summary>Source MAC address.</summary>
    public MacAddress Source
    {
        get => MacAddress.Read(_buffer[Field.Source..]);
        set => value.WriteTo(Writable[Field.Source..]);
    }

    /// <summary>True when the frame carries an 802.1Q tag.</summary>
    public bool HasVlanTag => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.EtherType..]) == Wire.EtherType.Vlan;

    /// <summary>VLAN identifier (12 bits), 0 when untagged.</summary>
    public ushort VlanId => HasVlanTag ? (ushort)(BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.VlanTci..]) & 0x0FFF) : (ushort)0;

    /// <summary>802.1p priority code point (3 bits), 0 when untagged.</summary>
    public byte Priority => HasVlanTag ? (byte)(_buffer[Field.VlanTci] >> 5) : (byte)0;

    /// <summary>The EtherType of the payload (after the tag when tagged).</summary>
    public ushort EtherType
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[(HeaderLength - 2)..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(Writable[(HeaderLength - 2)..], value);
    }

    /// <summary>Header length: 14, or 18 when tagged.</summary>
    public int HeaderLength => HasVlanTag ? TaggedHeaderLength : UntaggedHeaderLength;

    /// <summary>Everything after the header (including any padding of short frames).</summary>
    public Span<byte> Payload => Writable[HeaderLength..];

    /// <summary>Everything after the header (including any padding of short frames), as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyPayload => _buffer[HeaderLength..];

    /// <summary>Checks that <paramref name="buffer"/> holds a whole header (tag included).</summary>
    public static WireError Validate(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length < UntaggedHeaderLength)
        {
            return WireError.Truncated;
        }

        if (BinaryPrimitives.ReadUInt16BigEndian(buffer[Field.EtherType..]) == Wire.EtherType.Vlan && buffer.Length < TaggedHeaderLength)
        {
            return WireError.Truncated;
        }

        return WireError.None;
    }

    /// <summary>Creates a view when <paramref name="buffer"/> holds a whole header.</summary>
    public static bool TryCreate(Span<byte> buffer, out EthernetFrame frame)
    {
        var valid = TryCreate((ReadOnlySpan<byte>)buffer, out frame);
        frame = valid ? new EthernetFrame(buffer[..frame._buffer.Length]) : default;
        return valid;
    }

    /// <summary>Creates a read-only view (see the remarks on the type) when <paramref name="buffer"/> passes <see cref="Validate"/>.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> buffer, out EthernetFrame frame)
    {
        if (Validate(buffer) != WireError.None)
        {
            frame = default;
            return false;
        }

        frame = new EthernetFrame(buffer);
        return true;
    }


    /// <summary>Writes an untagged header and returns its length (14).</summary>
    /// <exception cref="ArgumentException"><paramref name="buffer"/> is shorter than 14 bytes.</exception>
    public static int WriteHeader(Span<byte> buffer, MacAddress destination, MacAddress source, ushort etherType)
    {
        if (buffer.Length < UntaggedHeaderLength)
        {
            throw new ArgumentException("an Ethernet header needs 14 bytes", nameof(buffer));
        }

        destination.WriteTo(buffer[Field.Destination..]);
        source.WriteTo(buffer[Field.Source..]);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.EtherType..], etherType);
        return UntaggedHeaderLength;
    }

    /// <summary>Writes a header with an 802.1Q tag and returns its length (18).</summary>
    /// <exception cref="ArgumentException"><paramref name="buffer"/> is shorter than 18 bytes or the VLAN id/priority is out of range.</exception>
    public static int WriteTaggedHeader(Span<byte> buffer, MacAddress destination, MacAddress source, ushort vlanId, byte priority, ushort etherType)
    {
        if (buffer.Length < TaggedHeaderLength || vlanId > 0x0FFF || priority > 7)
        {
            throw new ArgumentException("a tagged Ethernet header needs 18 bytes, a VLAN id below 4096 and a priority below 8", nameof(buffer));
        }

        destination.WriteTo(buffer[Field.Destination..]);
        source.WriteTo(buffer[Field.Source..]);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.EtherType..], Wire.EtherType.Vlan);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.VlanTci..], (ushort)((priority << 13) | vlanId));
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.InnerEtherType..], etherType);
        return TaggedHeaderLength;
    }
}
