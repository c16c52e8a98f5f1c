using System.Buffers.Binary;

namespace TunTap.Netlink;

/// <summary>
/// Walks a run of attributes (after a family header, or inside a nested attribute). Never throws
/// and never reads past the buffer: an attribute whose length is below 4 or runs past the end
/// stops the walk and sets <see cref="IsMalformed"/>.
/// </summary>
internal ref struct NetlinkAttributeReader
{
    private ReadOnlySpan<byte> _remaining;

    public NetlinkAttributeReader(ReadOnlySpan<byte> attributes)
    {
        _remaining = attributes;
        IsMalformed = false;
    }

    /// <summary>True when the walk stopped at bytes that are not a valid attribute.</summary>
    public bool IsMalformed { get; private set; }

    /// <summary>Reads the next attribute; false at the end or at malformed bytes.</summary>
    public bool TryRead(out NetlinkAttribute attribute)
    {
        attribute = default;
        if (_remaining.IsEmpty)
        {
            return false;
        }

        if (_remaining.Length < NetlinkProtocol.AttributeHeaderSize)
        {
            return Stop();
        }

        var length = BinaryPrimitives.ReadUInt16LittleEndian(_remaining);
        if (length < NetlinkProtocol.AttributeHeaderSize || length > _remaining.Length)
        {
            return Stop();
        }

        attribute = new NetlinkAttribute(BinaryPrimitives.ReadUInt16LittleEndian(_remaining[2..]), _remaining[NetlinkProtocol.AttributeHeaderSize..length]);
        var next = NetlinkMessageWriter.Align(length);
        _remaining = next >= _remaining.Length ? default : _remaining[next..];
        return true;
    }

    private bool Stop()
    {
        IsMalformed = true;
        _remaining = default;
        return false;
    }
}
