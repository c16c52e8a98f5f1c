namespace TunTap.Netlink;

/// <summary>One netlink message: its header fields and the payload after the 16-byte header.</summary>
internal readonly ref struct NetlinkMessage
{
    public NetlinkMessage(ushort type, ushort flags, uint sequence, uint portId, ReadOnlySpan<byte> payload)
    {
        Type = type;
        Flags = flags;
        Sequence = sequence;
        PortId = portId;
        Payload = payload;
    }

    /// <summary>nlmsg_type: a control type (error, done) or a family message (RTM_NEWLINK...).</summary>
    public ushort Type { get; }

    /// <summary>nlmsg_flags.</summary>
    public ushort Flags { get; }

    /// <summary>nlmsg_seq: matches the request it answers.</summary>
    public uint Sequence { get; }

    /// <summary>nlmsg_pid: the port id of the receiver.</summary>
    public uint PortId { get; }

    /// <summary>The bytes after the header, up to nlmsg_len (padding excluded).</summary>
    public ReadOnlySpan<byte> Payload { get; }
}
