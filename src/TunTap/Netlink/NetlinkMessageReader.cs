using System.Buffers.Binary;

namespace TunTap.Netlink;

/// <summary>
/// Walks the netlink messages packed in one datagram. Never throws and never reads past the
/// buffer: a header whose length is too small or runs past the end stops the walk and sets
/// <see cref="IsMalformed"/>.
/// </summary>
internal ref struct NetlinkMessageReader
{
    private ReadOnlySpan<byte> _remaining;

    public NetlinkMessageReader(ReadOnlySpan<byte> datagram)
    {
        _remaining = datagram;
        IsMalformed = false;
    }

    /// <summary>True when the walk stopped at bytes that are not a valid message.</summary>
    public bool IsMalformed { get; private set; }

    /// <summary>Reads the next message; false at the end of the datagram or at malformed bytes.</summary>
    public bool TryRead(out NetlinkMessage message)
    {
        message = default;
        if (_remaining.IsEmpty)
        {
            return false;
        }

        if (_remaining.Length < NetlinkProtocol.HeaderSize)
        {
            IsMalformed = true;
            _remaining = default;
            return false;
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(_remaining);
        if (length < NetlinkProtocol.HeaderSize || length > (uint)_remaining.Length)
        {
            IsMalformed = true;
            _remaining = default;
            return false;
        }

        message = new NetlinkMessage(
            BinaryPrimitives.ReadUInt16LittleEndian(_remaining[4..]),
            BinaryPrimitives.ReadUInt16LittleEndian(_remaining[6..]),
            BinaryPrimitives.ReadUInt32LittleEndian(_remaining[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(_remaining[12..]),
            _remaining[NetlinkProtocol.HeaderSize..(int)length]);
        var next = NetlinkMessageWriter.Align((int)length);
        _remaining = next >= _remaining.Length ? default : _remaining[next..];
        return true;
    }
}
