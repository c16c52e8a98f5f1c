using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using P = TunTap.Netlink.NetlinkProtocol;

namespace TunTap.Netlink;

/// <summary>Encodes RTM_*ADDR requests and decodes RTM_NEWADDR replies (struct ifaddrmsg + IFA_* attributes).</summary>
internal static class AddressMessage
{
    /// <summary>A dump of every address of both families.</summary>
    public static void WriteDump(ref NetlinkMessageWriter writer, uint sequence)
    {
        writer.BeginMessage(P.GetAddr, P.Request | P.Dump, sequence);
        writer.AppendFixed(P.IfAddrSize);
        writer.EndMessage();
    }

    /// <summary>Adds <paramref name="address"/> to interface <paramref name="index"/>; fails with EEXIST when present.</summary>
    public static void WriteAdd(ref NetlinkMessageWriter writer, uint sequence, int index, InterfaceAddress address, bool noDad)
    {
        writer.BeginMessage(P.NewAddr, P.Request | P.Ack | P.Create | P.Exclusive, sequence);
        var flags = noDad && !address.IsIPv4 ? P.IfaFNoDad : 0;
        WriteBody(ref writer, index, address, flags);
        if (flags != 0)
        {
            writer.PutU32(P.IfaFlags, flags);
        }

        writer.EndMessage();
    }

    /// <summary>Removes <paramref name="address"/> from interface <paramref name="index"/>.</summary>
    public static void WriteDelete(ref NetlinkMessageWriter writer, uint sequence, int index, InterfaceAddress address)
    {
        writer.BeginMessage(P.DelAddr, P.Request | P.Ack, sequence);
        WriteBody(ref writer, index, address, 0);
        writer.EndMessage();
    }

    /// <summary>Decodes an RTM_NEWADDR payload; false for other families or malformed bytes. Never throws.</summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, out AddressInfo? info)
    {
        info = null;
        if (payload.Length < P.IfAddrSize)
        {
            return false;
        }

        var family = payload[0];
        var prefix = payload[1];
        var index = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        var size = family switch
        {
            P.AfInet => 4,
            P.AfInet6 => 16,
            _ => 0,
        };
        if (size == 0 || prefix > size * 8)
        {
            return false;
        }

        // IFA_LOCAL is the local address when present (IPv4 always, IPv6 only with a peer);
        // IFA_ADDRESS is then the peer. Without IFA_LOCAL, IFA_ADDRESS is the local address.
        ReadOnlySpan<byte> local = default;
        ReadOnlySpan<byte> address = default;
        var attributes = new NetlinkAttributeReader(payload[P.IfAddrSize..]);
        while (attributes.TryRead(out var attribute))
        {
            if (attribute.Type == P.IfaLocal && attribute.Payload.Length == size)
            {
                local = attribute.Payload;
            }
            else if (attribute.Type == P.IfaAddress && attribute.Payload.Length == size)
            {
                address = attribute.Payload;
            }
        }

        var chosen = local.IsEmpty ? address : local;
        if (chosen.IsEmpty)
        {
            return false;
        }

        info = new AddressInfo(index, new InterfaceAddress(new IPAddress(chosen), prefix));
        return true;
    }

    /// <summary>The netlink family byte of <paramref name="address"/>.</summary>
    public static byte FamilyOf(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork ? P.AfInet : P.AfInet6;

    /// <summary>Appends an attribute holding the raw bytes of <paramref name="address"/>.</summary>
    public static void PutAddress(ref NetlinkMessageWriter writer, ushort type, IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var length);
        writer.PutAttribute(type, bytes[..length]);
    }

    private static void WriteBody(ref NetlinkMessageWriter writer, int index, InterfaceAddress address, uint flags)
    {
        var header = writer.AppendFixed(P.IfAddrSize);
        header[0] = FamilyOf(address.Address);
        header[1] = (byte)address.PrefixLength;
        header[2] = (byte)flags;
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], index);
        PutAddress(ref writer, P.IfaLocal, address.Address);
        PutAddress(ref writer, P.IfaAddress, address.Address);
    }
}
