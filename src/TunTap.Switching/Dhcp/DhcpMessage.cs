using System.Buffers.Binary;
using TunTap.Wire;

namespace TunTap.Switching.Dhcp;

/// <summary>
/// A zero-copy view of a BOOTP/DHCP message (RFC 2131 section 2, RFC 951): the fixed 236-byte
/// header, the magic cookie and the options. <see cref="TryCreate(Span{byte}, out DhcpMessage)"/>
/// checks the length and the cookie once; options are then read without copying by
/// <see cref="TryGetOption"/>, which never reads past the buffer whatever the bytes say.
/// Addresses are <see cref="uint"/> values read big-endian (10.0.0.1 is 0x0A000001).
/// </summary>
/// <remarks>
/// A view made from a <see cref="ReadOnlySpan{T}"/> is read-only (<see cref="IsReadOnly"/>): its
/// setters and <see cref="Span{T}"/> accessors throw <see cref="InvalidOperationException"/>; read
/// it through the <c>ReadOnly</c> accessors.
/// </remarks>
public readonly ref struct DhcpMessage
{
    /// <summary>Byte offsets of the fields.</summary>
    public static class Field
    {
        /// <summary>Message op code: 1 BOOTREQUEST, 2 BOOTREPLY.</summary>
        public const int Op = 0;

        /// <summary>Hardware address type (1: Ethernet).</summary>
        public const int HardwareType = 1;

        /// <summary>Hardware address length (6 for Ethernet).</summary>
        public const int HardwareLength = 2;

        /// <summary>Relay hops.</summary>
        public const int Hops = 3;

        /// <summary>Transaction id chosen by the client.</summary>
        public const int TransactionId = 4;

        /// <summary>Seconds since the client began.</summary>
        public const int Seconds = 8;

        /// <summary>Flags: the top bit asks for broadcast replies.</summary>
        public const int Flags = 10;

        /// <summary>ciaddr: the client's address when it already has one.</summary>
        public const int ClientAddress = 12;

        /// <summary>yiaddr: the address the server gives.</summary>
        public const int YourAddress = 16;

        /// <summary>siaddr: the next server (boot).</summary>
        public const int ServerAddress = 20;

        /// <summary>giaddr: the relay agent.</summary>
        public const int RelayAddress = 24;

        /// <summary>chaddr: the client's hardware address (16 bytes, the first <see cref="HardwareLength"/> used).</summary>
        public const int ClientHardwareAddress = 28;

        /// <summary>sname: server host name (64 bytes), or options when overloaded.</summary>
        public const int ServerName = 44;

        /// <summary>file: boot file name (128 bytes), or options when overloaded.</summary>
        public const int BootFile = 108;

        /// <summary>The magic cookie 99.130.83.99.</summary>
        public const int MagicCookie = 236;

        /// <summary>The first option.</summary>
        public const int Options = 240;
    }

    /// <summary>Op code of a client's message.</summary>
    public const byte BootRequest = 1;

    /// <summary>Op code of a server's message.</summary>
    public const byte BootReply = 2;

    /// <summary>Hardware type of Ethernet.</summary>
    public const byte EthernetHardwareType = 1;

    /// <summary>The magic cookie that marks DHCP options (RFC 2131 section 3).</summary>
    public const uint Cookie = 0x63825363;

    /// <summary>Length up to and including the magic cookie.</summary>
    public const int MinimumLength = Field.Options;

    /// <summary>The broadcast bit of <see cref="Flags"/>.</summary>
    public const ushort BroadcastFlag = 0x8000;

    /// <summary>The DHCP server port.</summary>
    public const ushort ServerPort = 67;

    /// <summary>The DHCP client port.</summary>
    public const ushort ClientPort = 68;

    private const int ServerNameLength = 64;
    private const int BootFileLength = 128;
    private const int ClientHardwareAddressLength = 16;

    private readonly ReadOnlySpan<byte> _buffer;
    private readonly Span<byte> _writable;

    private DhcpMessage(Span<byte> buffer)
    {
        _buffer = buffer;
        _writable = buffer;
    }

    private DhcpMessage(ReadOnlySpan<byte> buffer) => _buffer = buffer;

    /// <summary>True for a view made from read-only data: it can only be read.</summary>
    public bool IsReadOnly => _writable.IsEmpty;

    private Span<byte> Writable => _writable.IsEmpty
        ? throw new InvalidOperationException("this DhcpMessage view was made from read-only data; create it from a Span<byte> to change it")
        : _writable;

    /// <summary>The message, options included.</summary>
    public Span<byte> Buffer => Writable;

    /// <summary>The message, options included, as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyBuffer => _buffer;

    /// <summary>Op code (<see cref="BootRequest"/> or <see cref="BootReply"/>).</summary>
    public byte Op => _buffer[Field.Op];

    /// <summary>Hardware address type.</summary>
    public byte HardwareType => _buffer[Field.HardwareType];

    /// <summary>Hardware address length.</summary>
    public byte HardwareLength => _buffer[Field.HardwareLength];

    /// <summary>Relay hops.</summary>
    public byte Hops => _buffer[Field.Hops];

    /// <summary>Transaction id.</summary>
    public uint TransactionId => BinaryPrimitives.ReadUInt32BigEndian(_buffer[Field.TransactionId..]);

    /// <summary>Seconds since the client began.</summary>
    public ushort Seconds => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Seconds..]);

    /// <summary>The flags field.</summary>
    public ushort Flags => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Flags..]);

    /// <summary>True when the client asks for broadcast replies (it cannot take unicast before it has an address).</summary>
    public bool Broadcast => (Flags & BroadcastFlag) != 0;

    /// <summary>ciaddr.</summary>
    public uint ClientAddress => BinaryPrimitives.ReadUInt32BigEndian(_buffer[Field.ClientAddress..]);

    /// <summary>yiaddr.</summary>
    public uint YourAddress => BinaryPrimitives.ReadUInt32BigEndian(_buffer[Field.YourAddress..]);

    /// <summary>siaddr.</summary>
    public uint ServerAddress => BinaryPrimitives.ReadUInt32BigEndian(_buffer[Field.ServerAddress..]);

    /// <summary>giaddr.</summary>
    public uint RelayAddress => BinaryPrimitives.ReadUInt32BigEndian(_buffer[Field.RelayAddress..]);

    /// <summary>The first six bytes of chaddr, as an Ethernet address.</summary>
    public MacAddress ClientMac => MacAddress.Read(_buffer[Field.ClientHardwareAddress..]);

    /// <summary>The 16-byte chaddr field.</summary>
    public Span<byte> ClientHardwareAddress => Writable.Slice(Field.ClientHardwareAddress, ClientHardwareAddressLength);

    /// <summary>The 16-byte chaddr field, as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyClientHardwareAddress => _buffer.Slice(Field.ClientHardwareAddress, ClientHardwareAddressLength);

    /// <summary>The options area after the magic cookie.</summary>
    public Span<byte> Options => Writable[Field.Options..];

    /// <summary>The options area after the magic cookie, as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyOptions => _buffer[Field.Options..];

    /// <summary>The message type (option 53), or <see cref="DhcpMessageType.None"/> when absent or not one byte.</summary>
    public DhcpMessageType MessageType =>
        TryGetOption(DhcpOptionCode.MessageType, out var value) && value.Length == 1 ? (DhcpMessageType)value[0] : DhcpMessageType.None;

    /// <summary>Checks the length and the magic cookie, and that every option fits the buffer.</summary>
    public static WireError Validate(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length < MinimumLength)
        {
            return WireError.Truncated;
        }

        if (BinaryPrimitives.ReadUInt32BigEndian(buffer[Field.MagicCookie..]) != Cookie)
        {
            return WireError.Unsupported; // plain BOOTP
        }

        return ValidateOptions(buffer[Field.Options..]) ? WireError.None : WireError.Malformed;
    }

    /// <summary>Creates a view when <paramref name="buffer"/> holds a DHCP message (see <see cref="Validate"/>).</summary>
    public static bool TryCreate(Span<byte> buffer, out DhcpMessage message)
    {
        var valid = TryCreate((ReadOnlySpan<byte>)buffer, out message);
        message = valid ? new DhcpMessage(buffer[..message._buffer.Length]) : default;
        return valid;
    }

    /// <summary>Creates a read-only view (see the remarks on the type) when <paramref name="buffer"/> passes <see cref="Validate"/>.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> buffer, out DhcpMessage message)
    {
        if (Validate(buffer) != WireError.None)
        {
            message = default;
            return false;
        }

        message = new DhcpMessage(buffer);
        return true;
    }


    /// <summary>
    /// Finds option <paramref name="code"/> (the first occurrence) in the options area, then in the
    /// file and sname fields when option 52 says they are overloaded.
    /// </summary>
    public bool TryGetOption(byte code, out ReadOnlySpan<byte> value)
    {
        if (FindOption(ReadOnlyOptions, code, out value))
        {
            return true;
        }

        if (code != DhcpOptionCode.OptionOverload && FindOption(ReadOnlyOptions, DhcpOptionCode.OptionOverload, out var overload) && overload.Length == 1)
        {
            if ((overload[0] & 1) != 0 && FindOption(_buffer.Slice(Field.BootFile, BootFileLength), code, out value))
            {
                return true;
            }

            if ((overload[0] & 2) != 0 && FindOption(_buffer.Slice(Field.ServerName, ServerNameLength), code, out value))
            {
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>Reads a 4-byte address option, or 0 when it is absent or not four bytes.</summary>
    public uint GetAddressOption(byte code) =>
        TryGetOption(code, out var value) && value.Length == 4 ? BinaryPrimitives.ReadUInt32BigEndian(value) : 0;

    /// <summary>
    /// Writes the fixed header of a message (sname and file zeroed, magic cookie set) and returns
    /// a view; write the options after it with a <see cref="DhcpOptionWriter"/> over <see cref="Options"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="buffer"/> is shorter than <see cref="MinimumLength"/>.</exception>
    public static DhcpMessage WriteHeader(Span<byte> buffer, byte op, uint transactionId, ushort flags, uint clientAddress, uint yourAddress, uint serverAddress, uint relayAddress, ReadOnlySpan<byte> clientHardwareAddress)
    {
        if (buffer.Length < MinimumLength || clientHardwareAddress.Length > ClientHardwareAddressLength)
        {
            throw new ArgumentException($"a DHCP message needs {MinimumLength} bytes and at most 16 bytes of hardware address", nameof(buffer));
        }

        buffer[..MinimumLength].Clear();
        buffer[Field.Op] = op;
        buffer[Field.HardwareType] = EthernetHardwareType;
        buffer[Field.HardwareLength] = MacAddress.Length;
        BinaryPrimitives.WriteUInt32BigEndian(buffer[Field.TransactionId..], transactionId);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[Field.Flags..], flags);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[Field.ClientAddress..], clientAddress);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[Field.YourAddress..], yourAddress);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[Field.ServerAddress..], serverAddress);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[Field.RelayAddress..], relayAddress);
        clientHardwareAddress.CopyTo(buffer[Field.ClientHardwareAddress..]);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[Field.MagicCookie..], Cookie);
        return new DhcpMessage(buffer);
    }

    private static bool ValidateOptions(ReadOnlySpan<byte> options)
    {
        var i = 0;
        while (i < options.Length)
        {
            var code = options[i];
            if (code == DhcpOptionCode.End)
            {
                return true;
            }

            if (code == DhcpOptionCode.Pad)
            {
                i++;
                continue;
            }

            if (i + 1 >= options.Length || i + 2 + options[i + 1] > options.Length)
            {
                return false;
            }

            i += 2 + options[i + 1];
        }

        // No End option: accepted when the last option ends exactly at the buffer's end.
        return true;
    }

    private static bool FindOption(ReadOnlySpan<byte> options, byte code, out ReadOnlySpan<byte> value)
    {
        var i = 0;
        while (i < options.Length)
        {
            var current = options[i];
            if (current == DhcpOptionCode.End)
            {
                break;
            }

            if (current == DhcpOptionCode.Pad)
            {
                i++;
                continue;
            }

            if (i + 1 >= options.Length || i + 2 + options[i + 1] > options.Length)
            {
                break;
            }

            if (current == code)
            {
                value = options.Slice(i + 2, options[i + 1]);
                return true;
            }

            i += 2 + options[i + 1];
        }

        value = default;
        return false;
    }
}
