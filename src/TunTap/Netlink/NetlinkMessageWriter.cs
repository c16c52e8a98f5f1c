using System.Buffers.Binary;
using System.Text;

namespace TunTap.Netlink;

/// <summary>
/// Builds one netlink message in a caller-supplied buffer: the 16-byte header, a fixed family
/// header (ifinfomsg, ifaddrmsg, rtmsg) and type-length-value attributes, nested ones included.
/// Every element starts on a 4-byte boundary and padding is zeroed; lengths are filled in when an
/// element is closed. Running out of room is a programming error (requests are small and bounded).
/// </summary>
internal ref struct NetlinkMessageWriter
{
    private readonly Span<byte> _buffer;
    private int _length;
    private int _messageStart;

    /// <summary>Writes into <paramref name="buffer"/>, starting at its beginning.</summary>
    public NetlinkMessageWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _length = 0;
        _messageStart = -1;
    }

    /// <summary>Bytes written so far (always a multiple of 4).</summary>
    public readonly int Length => _length;

    /// <summary>The bytes written so far.</summary>
    public readonly ReadOnlySpan<byte> Written => _buffer[.._length];

    /// <summary>Rounds <paramref name="length"/> up to the 4-byte netlink alignment.</summary>
    public static int Align(int length) => (length + NetlinkProtocol.Alignment - 1) & ~(NetlinkProtocol.Alignment - 1);

    /// <summary>Starts a message; <see cref="EndMessage"/> fills in its length.</summary>
    public void BeginMessage(ushort type, ushort flags, uint sequence, uint portId = 0)
    {
        if (_messageStart >= 0)
        {
            throw new InvalidOperationException("the previous netlink message was not ended");
        }

        _messageStart = _length;
        var header = Reserve(NetlinkProtocol.HeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], portId);
    }

    /// <summary>Reserves <paramref name="size"/> zeroed bytes (a family header) and returns them to fill in.</summary>
    public Span<byte> AppendFixed(int size) => Reserve(size)[..size];

    /// <summary>Closes the current message, writes its length and returns it.</summary>
    public int EndMessage()
    {
        if (_messageStart < 0)
        {
            throw new InvalidOperationException("no netlink message was begun");
        }

        var length = _length - _messageStart;
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer[_messageStart..], (uint)length);
        _messageStart = -1;
        return length;
    }

    /// <summary>Appends an attribute with a raw payload.</summary>
    public void PutAttribute(ushort type, scoped ReadOnlySpan<byte> payload)
    {
        var attribute = Reserve(NetlinkProtocol.AttributeHeaderSize + payload.Length);
        WriteAttributeHeader(attribute, type, NetlinkProtocol.AttributeHeaderSize + payload.Length);
        payload.CopyTo(attribute[NetlinkProtocol.AttributeHeaderSize..]);
    }

    /// <summary>Appends a one-byte attribute.</summary>
    public void PutU8(ushort type, byte value) => PutAttribute(type, [value]);

    /// <summary>Appends a 16-bit attribute in host (little-endian) order.</summary>
    public void PutU16(ushort type, ushort value)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        PutAttribute(type, bytes);
    }

    /// <summary>Appends a 32-bit attribute in host (little-endian) order.</summary>
    public void PutU32(ushort type, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        PutAttribute(type, bytes);
    }

    /// <summary>Appends a NUL-terminated UTF-8 string attribute.</summary>
    public void PutString(ushort type, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var byteCount = Encoding.UTF8.GetByteCount(value);
        var attribute = Reserve(NetlinkProtocol.AttributeHeaderSize + byteCount + 1);
        WriteAttributeHeader(attribute, type, NetlinkProtocol.AttributeHeaderSize + byteCount + 1);
        Encoding.UTF8.GetBytes(value, attribute[NetlinkProtocol.AttributeHeaderSize..]);
        attribute[NetlinkProtocol.AttributeHeaderSize + byteCount] = 0;
    }

    /// <summary>
    /// Opens a nested attribute and returns its start, to pass to <see cref="EndNested"/>.
    /// rtnetlink parses nests liberally, so like iproute2 the NLA_F_NESTED bit is only set when asked.
    /// </summary>
    public int BeginNested(ushort type, bool markNested = false)
    {
        var start = _length;
        var header = Reserve(NetlinkProtocol.AttributeHeaderSize);
        WriteAttributeHeader(header, markNested ? (ushort)(type | NetlinkProtocol.AttributeNested) : type, NetlinkProtocol.AttributeHeaderSize);
        return start;
    }

    /// <summary>Closes the nested attribute opened at <paramref name="start"/>, covering everything appended since.</summary>
    public readonly void EndNested(int start)
    {
        if (start < 0 || start + NetlinkProtocol.AttributeHeaderSize > _length)
        {
            throw new ArgumentOutOfRangeException(nameof(start), "not the start of an open nested attribute");
        }

        var length = _length - start;
        if (length > ushort.MaxValue)
        {
            throw new InvalidOperationException("nested netlink attribute is longer than 65535 bytes");
        }

        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[start..], (ushort)length);
    }

    private static void WriteAttributeHeader(Span<byte> attribute, ushort type, int length)
    {
        if (length > ushort.MaxValue)
        {
            throw new InvalidOperationException("netlink attribute is longer than 65535 bytes");
        }

        BinaryPrimitives.WriteUInt16LittleEndian(attribute, (ushort)length);
        BinaryPrimitives.WriteUInt16LittleEndian(attribute[2..], type);
    }

    // Returns the aligned, zeroed region for the next element and advances past it.
    private Span<byte> Reserve(int size)
    {
        var aligned = Align(size);
        if (aligned > _buffer.Length - _length)
        {
            throw new InvalidOperationException($"netlink request does not fit in {_buffer.Length} bytes");
        }

        var region = _buffer.Slice(_length, aligned);
        region.Clear();
        _length += aligned;
        return region;
    }
}
