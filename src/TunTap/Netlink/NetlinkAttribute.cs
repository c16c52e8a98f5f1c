using System.Buffers.Binary;
using System.Text;

namespace TunTap.Netlink;

/// <summary>One type-length-value attribute; accessors check the payload size and never throw.</summary>
internal readonly ref struct NetlinkAttribute
{
    public NetlinkAttribute(ushort rawType, ReadOnlySpan<byte> payload)
    {
        RawType = rawType;
        Payload = payload;
    }

    /// <summary>The type with the nested and byte-order flag bits.</summary>
    public ushort RawType { get; }

    /// <summary>The attribute type without flag bits.</summary>
    public ushort Type => (ushort)(RawType & NetlinkProtocol.AttributeTypeMask);

    /// <summary>True when the sender marked the attribute as nested (not all senders do).</summary>
    public bool IsMarkedNested => (RawType & NetlinkProtocol.AttributeNested) != 0;

    /// <summary>The value bytes (padding excluded).</summary>
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>The attributes nested inside this one.</summary>
    public NetlinkAttributeReader Nested => new(Payload);

    public bool TryGetU8(out byte value)
    {
        value = Payload.Length >= 1 ? Payload[0] : (byte)0;
        return Payload.Length >= 1;
    }

    public bool TryGetU32(out uint value) => BinaryPrimitives.TryReadUInt32LittleEndian(Payload, out value);

    /// <summary>The payload as a string, up to the first NUL.</summary>
    public string GetString()
    {
        var end = Payload.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? Payload : Payload[..end]);
    }
}
