using System.Buffers.Binary;

namespace TunTap.Netlink;

/// <summary>
/// The decoded body of an NLMSG_ERROR (or NLMSG_DONE) message: the errno (0 for an ack) and, when
/// the socket asked for extended acks, the kernel's error text and the offset of the offending
/// attribute in our request.
/// </summary>
internal readonly record struct NetlinkError(int ErrorNumber, string? KernelMessage, int? AttributeOffset)
{
    private const int ErrorCodeSize = 4;

    /// <summary>True for an acknowledgement (no error).</summary>
    public bool IsAck => ErrorNumber == 0;

    /// <summary>
    /// Decodes an NLMSG_ERROR payload: a negative errno, the echoed request (header only when
    /// <c>NLM_F_CAPPED</c>), then extended-ack attributes when <c>NLM_F_ACK_TLVS</c>. Never throws.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, ushort flags, out NetlinkError error)
    {
        error = default;
        if (!BinaryPrimitives.TryReadInt32LittleEndian(payload, out var code))
        {
            return false;
        }

        var errno = code == int.MinValue ? int.MaxValue : Math.Abs(code);
        var tlvStart = ErrorCodeSize + NetlinkProtocol.HeaderSize;
        if ((flags & NetlinkProtocol.Capped) == 0 && payload.Length >= tlvStart)
        {
            var echoedLength = BinaryPrimitives.ReadUInt32LittleEndian(payload[ErrorCodeSize..]);
            tlvStart = echoedLength >= NetlinkProtocol.HeaderSize && echoedLength <= (uint)(payload.Length - ErrorCodeSize)
                ? ErrorCodeSize + NetlinkMessageWriter.Align((int)echoedLength)
                : payload.Length;
        }

        string? text = null;
        int? offset = null;
        if ((flags & NetlinkProtocol.AckTlvs) != 0 && tlvStart < payload.Length)
        {
            ReadExtendedAck(payload[tlvStart..], ref text, ref offset);
        }

        error = new NetlinkError(errno, text, offset);
        return true;
    }

    /// <summary>
    /// Decodes an NLMSG_DONE payload of a dump: an errno (0 when the dump succeeded), followed by
    /// extended-ack attributes when <c>NLM_F_ACK_TLVS</c>. An empty payload means success.
    /// </summary>
    public static NetlinkError ParseDone(ReadOnlySpan<byte> payload, ushort flags)
    {
        if (!BinaryPrimitives.TryReadInt32LittleEndian(payload, out var code))
        {
            return default;
        }

        string? text = null;
        int? offset = null;
        if ((flags & NetlinkProtocol.AckTlvs) != 0)
        {
            ReadExtendedAck(payload[ErrorCodeSize..], ref text, ref offset);
        }

        return new NetlinkError(code == int.MinValue ? int.MaxValue : Math.Abs(code), text, offset);
    }

    private static void ReadExtendedAck(ReadOnlySpan<byte> attributes, ref string? text, ref int? offset)
    {
        var reader = new NetlinkAttributeReader(attributes);
        while (reader.TryRead(out var attribute))
        {
            switch (attribute.Type)
            {
                case NetlinkProtocol.ErrorAttributeMessage:
                    var message = attribute.GetString();
                    text = message.Length == 0 ? null : message;
                    break;
                case NetlinkProtocol.ErrorAttributeOffset when attribute.TryGetU32(out var value) && value <= int.MaxValue:
                    offset = (int)value;
                    break;
                default:
                    break;
            }
        }
    }
}
