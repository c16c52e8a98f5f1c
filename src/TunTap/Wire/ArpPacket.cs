using System.Buffers.Binary;

namespace TunTap.Wire;

/// <summary>
/// A zero-copy view of an ARP packet for Ethernet hardware and IPv4 protocol addresses (RFC 826),
/// the only kind in use. IPv4 addresses are <see cref="uint"/> values read big-endian
/// (10.0.0.1 is 0x0A000001).
/// </summary>
/// <remarks>
/// A view made from a <see cref="ReadOnlySpan{T}"/> is read-only (<see cref="IsReadOnly"/>): its
/// setters and <see cref="Span{T}"/> accessors throw <see cref="InvalidOperationException"/>; read
/// it through the <c>ReadOnly</c> accessors.
/// </remarks>
public readonly ref struct ArpPacket
{
    /// <summary>Byte offsets of the fields.</summary>
    public static class Field
    {
        /// <summary>Hardware type (1 = Ethernet).</summary>
        public const int HardwareType = 0;

        /// <summary>Protocol type (an EtherType, 0x0800 = IPv4).</summary>
        public const int ProtocolType = 2;

        /// <summary>Hardware address length (6).</summary>
        public const int HardwareLength = 4;

        /// <summary>Protocol address length (4).</summary>
        public const int ProtocolLength = 5;

        /// <summary>Operation.</summary>
        public const int Operation = 6;

        /// <summary>Sender hardware address.</summary>
        public const int SenderHardwareAddress = 8;

        /// <summary>Sender protocol address.</summary>
        public const int SenderProtocolAddress = 14;

        /// <summary>Target hardware address.</summary>
        public const int TargetHardwareAddress = 18;

        /// <summary>Target protocol address.</summary>
        public const int TargetProtocolAddress = 24;
    }

    /// <summary>Length of an Ethernet/IPv4 ARP packet.</summary>
    public const int Length = 28;

    /// <summary>The hardware type of Ethernet.</summary>
    public const ushort EthernetHardwareType = 1;

    private readonly ReadOnlySpan<byte> _buffer;
    private readonly Span<byte> _writable;

    private ArpPacket(Span<byte> buffer)
    {
        _buffer = buffer;
        _writable = buffer;
    }

    private ArpPacket(ReadOnlySpan<byte> buffer) => _buffer = buffer;

    /// <summary>True for a view made from read-only data: it can only be read.</summary>
    public bool IsReadOnly => _writable.IsEmpty;

    private Span<byte> Writable => _writable.IsEmpty
        ? throw new InvalidOperationException("this ArpPacket view was made from read-only data; create it from a Span<byte> to change it")
        : _writable;

    /// <summary>The 28 bytes of the packet (trailing padding excluded).</summary>
    public Span<byte> Buffer => Writable;

    /// <summary>The 28 bytes of the packet (trailing padding excluded), as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyBuffer => _buffer;

    /// <summary>Operation (request or reply; other values are passed through).</summary>
    public ArpOperation Operation
    {
        get => (ArpOperation)BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Operation..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(Writable[Field.Operation..], (ushort)value);
    }

    /// <summary>Sender hardware address.</summary>
    public MacAddress SenderHardwareAddress
    {
        get => MacAddress.Read(_buffer[Field.SenderHardwareAddress..]);
        set => value.WriteTo(Writable[Field.SenderHardwareAddress..]);
    }

    /// <summary>Sender protocol (IPv4) address.</summary>
    public uint SenderProtocolAddress
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_buffer[Field.SenderProtocolAddress..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(Writable[Field.SenderProtocolAddress..], value);
    }

    /// <summary>Target hardware address.</summary>
    public MacAddress TargetHardwareAddress
    {
        get => MacAddress.Read(_buffer[Field.TargetHardwareAddress..]);
        set => value.WriteTo(Writable[Field.TargetHardwareAddress..]);
    }

    /// <summary>Target protocol (IPv4) address.</summary>
    public uint TargetProtocolAddress
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_buffer[Field.TargetProtocolAddress..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(Writable[Field.TargetProtocolAddress..], value);
    }

    /// <summary>Checks that <paramref name="buffer"/> holds an Ethernet/IPv4 ARP packet.</summary>
    public static WireError Validate(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length < Field.Operation)
        {
            return WireError.Truncated;
        }

        if (BinaryPrimitives.ReadUInt16BigEndian(buffer[Field.HardwareType..]) != EthernetHardwareType ||
            BinaryPrimitives.ReadUInt16BigEndian(buffer[Field.ProtocolType..]) != EtherType.Ipv4 ||
            buffer[Field.HardwareLength] != MacAddress.Length ||
            buffer[Field.ProtocolLength] != 4)
        {
            return WireError.Unsupported;
        }

        return buffer.Length < Length ? WireError.Truncated : WireError.None;
    }

    /// <summary>Creates a view when <paramref name="buffer"/> starts with an Ethernet/IPv4 ARP packet.</summary>
    public static bool TryCreate(Span<byte> buffer, out ArpPacket packet)
    {
        var valid = TryCreate((ReadOnlySpan<byte>)buffer, out packet);
        packet = valid ? new ArpPacket(buffer[..packet._buffer.Length]) : default;
        return valid;
    }

    /// <summary>Creates a read-only view (see the remarks on the type) when <paramref name="buffer"/> passes <see cref="Validate"/>.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> buffer, out ArpPacket packet)
    {
        if (Validate(buffer) != WireError.None)
        {
            packet = default;
            return false;
        }

        packet = new ArpPacket(buffer[..Length]);
        return true;
    }


    /// <summary>Writes a whole Ethernet/IPv4 ARP packet and returns its length (28).</summary>
    /// <exception cref="ArgumentException"><paramref name="buffer"/> is shorter than 28 bytes.</exception>
    public static int Write(Span<byte> buffer, ArpOperation operation, MacAddress senderHardwareAddress, uint senderProtocolAddress, MacAddress targetHardwareAddress, uint targetProtocolAddress)
    {
        if (buffer.Length < Length)
        {
            throw new ArgumentException("an ARP packet needs 28 bytes", nameof(buffer));
        }

        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.HardwareType..], EthernetHardwareType);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.ProtocolType..], EtherType.Ipv4);
        buffer[Field.HardwareLength] = MacAddress.Length;
        buffer[Field.ProtocolLength] = 4;
        var packet = new ArpPacket(buffer[..Length])
        {
            Operation = operation,
            SenderHardwareAddress = senderHardwareAddress,
            SenderProtocolAddress = senderProtocolAddress,
            TargetHardwareAddress = targetHardwareAddress,
            TargetProtocolAddress = targetProtocolAddress,
        };
        return packet._buffer.Length;
    }
}
