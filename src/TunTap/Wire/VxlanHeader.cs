using System.Buffers.Binary;

namespace TunTap.Wire;

/// <summary>
/// A zero-copy view of a VXLAN header (RFC 7348) and the Ethernet frame (without FCS) after it:
/// 8 bytes, a flags byte whose I bit (0x08) says the VNI is valid, 24 reserved bits, the 24-bit
/// VXLAN Network Identifier and 8 more reserved bits. Reserved bits are written as zero and
/// ignored on receipt, as the RFC asks.
/// </summary>
/// <remarks>
/// A view made from a <see cref="ReadOnlySpan{T}"/> is read-only (<see cref="IsReadOnly"/>): its
/// setters and <see cref="Span{T}"/> accessors throw <see cref="InvalidOperationException"/>; read
/// it through the <c>ReadOnly</c> accessors.
/// </remarks>
public readonly ref struct VxlanHeader
{
    /// <summary>Byte offsets of the fields.</summary>
    public static class Field
    {
        /// <summary>Flags (only the I bit is defined).</summary>
        public const int Flags = 0;

        /// <summary>24 reserved bits.</summary>
        public const int Reserved1 = 1;

        /// <summary>The 24-bit VNI (big-endian), followed by 8 reserved bits.</summary>
        public const int Vni = 4;

        /// <summary>8 reserved bits.</summary>
        public const int Reserved2 = 7;
    }

    /// <summary>Length of the header.</summary>
    public const int HeaderLength = 8;

    /// <summary>The I flag: the VNI field is valid. Receivers drop datagrams without it.</summary>
    public const byte VniValidFlag = 0x08;

    /// <summary>The IANA-assigned UDP destination port.</summary>
    public const ushort DefaultPort = 4789;

    /// <summary>The largest VNI (24 bits).</summary>
    public const uint MaxVni = 0xFFFFFF;

    private readonly ReadOnlySpan<byte> _buffer;
    private readonly Span<byte> _writable;

    private VxlanHeader(Span<byte> buffer)
    {
        _buffer = buffer;
        _writable = buffer;
    }

    private VxlanHeader(ReadOnlySpan<byte> buffer) => _buffer = buffer;

    /// <summary>True for a view made from read-only data: it can only be read.</summary>
    public bool IsReadOnly => _writable.IsEmpty;

    private Span<byte> Writable => _writable.IsEmpty
        ? throw new InvalidOperationException("this VxlanHeader view was made from read-only data; create it from a Span<byte> to change it")
        : _writable;

    /// <summary>The header and the frame after it.</summary>
    public Span<byte> Buffer => Writable;

    /// <summary>The header and the frame after it, as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyBuffer => _buffer;

    /// <summary>The flags byte.</summary>
    public byte Flags
    {
        get => _buffer[Field.Flags];
        set => Writable[Field.Flags] = value;
    }

    /// <summary>True when the I flag is set (the VNI is valid).</summary>
    public bool HasVni => (Flags & VniValidFlag) != 0;

    /// <summary>The VXLAN Network Identifier (24 bits).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to more than <see cref="MaxVni"/>.</exception>
    public uint Vni
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_buffer[Field.Vni..]) >> 8;
        set
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxVni);
            var low = _buffer[Field.Reserved2];
            BinaryPrimitives.WriteUInt32BigEndian(Writable[Field.Vni..], (value << 8) | low);
        }
    }

    /// <summary>The encapsulated Ethernet frame.</summary>
    public Span<byte> Payload => Writable[HeaderLength..];

    /// <summary>The encapsulated Ethernet frame, as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyPayload => _buffer[HeaderLength..];

    /// <summary>
    /// Checks that <paramref name="buffer"/> holds a header (<see cref="WireError.Truncated"/>
    /// otherwise) with the I flag set (<see cref="WireError.Malformed"/> otherwise).
    /// </summary>
    public static WireError Validate(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length < HeaderLength)
        {
            return WireError.Truncated;
        }

        return (buffer[Field.Flags] & VniValidFlag) == 0 ? WireError.Malformed : WireError.None;
    }

    /// <summary>Creates a view over all of <paramref name="buffer"/> when it passes <see cref="Validate"/>.</summary>
    public static bool TryCreate(Span<byte> buffer, out VxlanHeader header)
    {
        var valid = TryCreate((ReadOnlySpan<byte>)buffer, out header);
        header = valid ? new VxlanHeader(buffer[..header._buffer.Length]) : default;
        return valid;
    }

    /// <summary>Creates a read-only view (see the remarks on the type) when <paramref name="buffer"/> passes <see cref="Validate"/>.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> buffer, out VxlanHeader header)
    {
        if (Validate(buffer) != WireError.None)
        {
            header = default;
            return false;
        }

        header = new VxlanHeader(buffer);
        return true;
    }


    /// <summary>Writes a header for <paramref name="vni"/> (I flag set, reserved bits zero) and returns the view over <paramref name="buffer"/>.</summary>
    /// <exception cref="ArgumentException">The buffer is shorter than the header.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="vni"/> is more than <see cref="MaxVni"/>.</exception>
    public static VxlanHeader Write(Span<byte> buffer, uint vni)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(vni, MaxVni);
        if (buffer.Length < HeaderLength)
        {
            throw new ArgumentException($"a VXLAN header needs {HeaderLength} bytes, the buffer has {buffer.Length}", nameof(buffer));
        }

        BinaryPrimitives.WriteUInt32BigEndian(buffer, (uint)VniValidFlag << 24);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[Field.Vni..], vni << 8);
        return new VxlanHeader(buffer);
    }
}
