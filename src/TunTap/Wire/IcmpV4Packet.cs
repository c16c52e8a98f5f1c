using System.Buffers.Binary;

namespace TunTap.Wire;

/// <summary>
/// A zero-copy view of an ICMP (IPv4) message, RFC 792: the whole IPv4 payload. Every message has
/// at least the 8-byte header; <see cref="Identifier"/> and <see cref="SequenceNumber"/> are the
/// echo fields (other types use those bytes differently).
/// </summary>
/// <remarks>
/// A view made from a <see cref="ReadOnlySpan{T}"/> is read-only (<see cref="IsReadOnly"/>): its
/// setters and <see cref="Span{T}"/> accessors throw <see cref="InvalidOperationException"/>; read
/// it through the <c>ReadOnly</c> accessors.
/// </remarks>
public readonly ref struct IcmpV4Packet
{
    /// <summary>Byte offsets of the fields.</summary>
    public static class Field
    {
        /// <summary>Message type.</summary>
        public const int Type = 0;

        /// <summary>Code.</summary>
        public const int Code = 1;

        /// <summary>Checksum over the whole message.</summary>
        public const int Checksum = 2;

        /// <summary>Echo identifier.</summary>
        public const int Identifier = 4;

        /// <summary>Echo sequence number.</summary>
        public const int SequenceNumber = 6;

        /// <summary>Start of the data after the header.</summary>
        public const int Data = 8;
    }

    /// <summary>Length of the header.</summary>
    public const int HeaderLength = 8;

    private readonly ReadOnlySpan<byte> _buffer;
    private readonly Span<byte> _writable;

    private IcmpV4Packet(Span<byte> buffer)
    {
        _buffer = buffer;
        _writable = buffer;
    }

    private IcmpV4Packet(ReadOnlySpan<byte> buffer) => _buffer = buffer;

    /// <summary>True for a view made from read-only data: it can only be read.</summary>
    public bool IsReadOnly => _writable.IsEmpty;

    private Span<byte> Writable => _writable.IsEmpty
        ? throw new InvalidOperationException("this IcmpV4Packet view was made from read-only data; create it from a Span<byte> to change it")
        : _writable;

    /// <summary>The whole message.</summary>
    public Span<byte> Buffer => Writable;

    /// <summary>The whole message, as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyBuffer => _buffer;

    /// <summary>Message type (see <see cref="IcmpV4Type"/>).</summary>
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

    /// <summary>Everything after the 8-byte header.</summary>
    public Span<byte> Data => Writable[Field.Data..];

    /// <summary>Everything after the 8-byte header, as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyData => _buffer[Field.Data..];

    /// <summary>Checks that <paramref name="buffer"/> holds at least the 8-byte header.</summary>
    public static WireError Validate(ReadOnlySpan<byte> buffer) =>
        buffer.Length < HeaderLength ? WireError.Truncated : WireError.None;

    /// <summary>Creates a view of the whole of <paramref name="buffer"/> when it holds at least the header.</summary>
    public static bool TryCreate(Span<byte> buffer, out IcmpV4Packet packet)
    {
        var valid = TryCreate((ReadOnlySpan<byte>)buffer, out packet);
        packet = valid ? new IcmpV4Packet(buffer[..packet._buffer.Length]) : default;
        return valid;
    }

    /// <summary>Creates a read-only view (see the remarks on the type) when <paramref name="buffer"/> passes <see cref="Validate"/>.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> buffer, out IcmpV4Packet packet)
    {
        if (Validate(buffer) != WireError.None)
        {
            packet = default;
            return false;
        }

        packet = new IcmpV4Packet(buffer);
        return true;
    }


    /// <summary>The checksum the message should carry (computed with the field taken as zero).</summary>
    public ushort ComputeChecksum() => InternetChecksum.ComputeWithoutField(0, _buffer, Field.Checksum);

    /// <summary>Computes the checksum and stores it.</summary>
    public void FillChecksum() => Checksum = ComputeChecksum();

    /// <summary>True when the checksum is correct.</summary>
    public bool VerifyChecksum() => InternetChecksum.IsValid(InternetChecksum.Add(0, _buffer));

    /// <summary>Writes an echo request or reply carrying <paramref name="data"/>, checksum filled, and returns its view.</summary>
    /// <exception cref="ArgumentException">The buffer cannot hold the message.</exception>
    public static IcmpV4Packet WriteEcho(Span<byte> buffer, byte type, ushort identifier, ushort sequenceNumber, ReadOnlySpan<byte> data)
    {
        if (buffer.Length < HeaderLength + data.Length)
        {
            throw new ArgumentException($"an ICMP echo with {data.Length} data bytes does not fit {buffer.Length} bytes", nameof(buffer));
        }

        var packet = new IcmpV4Packet(buffer[..(HeaderLength + data.Length)])
        {
            Type = type,
            Code = 0,
            Identifier = identifier,
            SequenceNumber = sequenceNumber,
        };
        data.CopyTo(packet.Data);
        packet.FillChecksum();
        return packet;
    }
}
