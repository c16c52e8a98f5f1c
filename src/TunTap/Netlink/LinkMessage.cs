using System.Buffers.Binary;
using System.Net.NetworkInformation;
using TunTap.Devices;
using P = TunTap.Netlink.NetlinkProtocol;

namespace TunTap.Netlink;

/// <summary>Encodes RTM_*LINK requests and decodes RTM_NEWLINK replies (struct ifinfomsg + IFLA_* attributes).</summary>
internal static class LinkMessage
{
    private const uint NoId = uint.MaxValue;

    /// <summary>A dump of every link.</summary>
    public static void WriteDump(ref NetlinkMessageWriter writer, uint sequence)
    {
        writer.BeginMessage(P.GetLink, P.Request | P.Dump, sequence);
        WriteHeader(ref writer, 0);
        writer.EndMessage();
    }

    /// <summary>A query for one link by name (the kernel answers ENODEV when there is none).</summary>
    public static void WriteGet(ref NetlinkMessageWriter writer, uint sequence, string name)
    {
        writer.BeginMessage(P.GetLink, P.Request | P.Ack, sequence);
        WriteHeader(ref writer, 0);
        writer.PutString(P.IflaIfName, name);
        writer.EndMessage();
    }

    /// <summary>Sets or clears IFF_UP on the link named <paramref name="name"/>.</summary>
    public static void WriteSetUp(ref NetlinkMessageWriter writer, uint sequence, string name, bool up)
    {
        writer.BeginMessage(P.NewLink, P.Request | P.Ack, sequence);
        WriteHeader(ref writer, 0, up ? P.IffUp : 0, P.IffUp);
        writer.PutString(P.IflaIfName, name);
        writer.EndMessage();
    }

    /// <summary>Sets the MTU of the link named <paramref name="name"/>.</summary>
    public static void WriteSetMtu(ref NetlinkMessageWriter writer, uint sequence, string name, uint mtu) =>
        WriteSetU32(ref writer, sequence, name, P.IflaMtu, mtu);

    /// <summary>Sets how many segments one GSO packet for the link named <paramref name="name"/> may have (<c>gso_max_segs</c>).</summary>
    public static void WriteSetGsoMaxSegments(ref NetlinkMessageWriter writer, uint sequence, string name, uint segments) =>
        WriteSetU32(ref writer, sequence, name, P.IflaGsoMaxSegs, segments);

    /// <summary>Sets one 32-bit link attribute of the link named <paramref name="name"/>.</summary>
    private static void WriteSetU32(ref NetlinkMessageWriter writer, uint sequence, string name, ushort attribute, uint value)
    {
        writer.BeginMessage(P.NewLink, P.Request | P.Ack, sequence);
        WriteHeader(ref writer, 0);
        writer.PutString(P.IflaIfName, name);
        writer.PutU32(attribute, value);
        writer.EndMessage();
    }

    /// <summary>Renames the link with index <paramref name="index"/> (the name attribute carries the new name).</summary>
    public static void WriteRename(ref NetlinkMessageWriter writer, uint sequence, int index, string newName)
    {
        writer.BeginMessage(P.NewLink, P.Request | P.Ack, sequence);
        WriteHeader(ref writer, index);
        writer.PutString(P.IflaIfName, newName);
        writer.EndMessage();
    }

    /// <summary>Moves the link named <paramref name="name"/> into the namespace open as <paramref name="netnsFd"/>.</summary>
    public static void WriteMoveToNamespace(ref NetlinkMessageWriter writer, uint sequence, string name, int netnsFd)
    {
        writer.BeginMessage(P.NewLink, P.Request | P.Ack, sequence);
        WriteHeader(ref writer, 0);
        writer.PutString(P.IflaIfName, name);
        writer.PutU32(P.IflaNetNsFd, (uint)netnsFd);
        writer.EndMessage();
    }

    /// <summary>Creates a veth pair; the peer goes into the namespace open as <paramref name="peerNetnsFd"/> when given.</summary>
    public static void WriteCreateVeth(ref NetlinkMessageWriter writer, uint sequence, string name, string peerName, int? peerNetnsFd)
    {
        writer.BeginMessage(P.NewLink, P.Request | P.Ack | P.Create | P.Exclusive, sequence);
        WriteHeader(ref writer, 0);
        writer.PutString(P.IflaIfName, name);
        var linkInfo = writer.BeginNested(P.IflaLinkInfo);
        writer.PutString(P.IflaInfoKind, "veth");
        var data = writer.BeginNested(P.IflaInfoData);
        var peer = writer.BeginNested(P.VethInfoPeer);
        writer.AppendFixed(P.IfInfoSize);
        writer.PutString(P.IflaIfName, peerName);
        if (peerNetnsFd is { } fd)
        {
            writer.PutU32(P.IflaNetNsFd, (uint)fd);
        }

        writer.EndNested(peer);
        writer.EndNested(data);
        writer.EndNested(linkInfo);
        writer.EndMessage();
    }

    /// <summary>Deletes the link named <paramref name="name"/>.</summary>
    public static void WriteDelete(ref NetlinkMessageWriter writer, uint sequence, string name)
    {
        writer.BeginMessage(P.DelLink, P.Request | P.Ack, sequence);
        WriteHeader(ref writer, 0);
        writer.PutString(P.IflaIfName, name);
        writer.EndMessage();
    }

    /// <summary>Decodes an RTM_NEWLINK payload; false when it is too short or has no name. Never throws.</summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, out LinkInfo? link)
    {
        link = null;
        if (payload.Length < P.IfInfoSize)
        {
            return false;
        }

        var index = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
        string? name = null;
        string? kind = null;
        var mtu = 0;
        PhysicalAddress? address = null;
        byte operState = 0;
        ReadOnlySpan<byte> infoData = default;

        var attributes = new NetlinkAttributeReader(payload[P.IfInfoSize..]);
        while (attributes.TryRead(out var attribute))
        {
            switch (attribute.Type)
            {
                case P.IflaIfName:
                    name = attribute.GetString();
                    break;
                case P.IflaMtu when attribute.TryGetU32(out var value):
                    mtu = (int)Math.Min(value, int.MaxValue);
                    break;
                case P.IflaAddress when attribute.Payload.Length > 0:
                    address = new PhysicalAddress(attribute.Payload.ToArray());
                    break;
                case P.IflaOperState when attribute.TryGetU8(out var state):
                    operState = state;
                    break;
                case P.IflaLinkInfo:
                    var info = attribute.Nested;
                    while (info.TryRead(out var item))
                    {
                        if (item.Type == P.IflaInfoKind)
                        {
                            kind = item.GetString();
                        }
                        else if (item.Type == P.IflaInfoData)
                        {
                            infoData = item.Payload;
                        }
                    }

                    break;
                default:
                    break;
            }
        }

        if (string.IsNullOrEmpty(name))
        {
            return false;
        }

        var isUp = (flags & P.IffUp) != 0;
        var hasCarrier = (flags & P.IffLowerUp) != 0 || operState == P.OperStateUp;
        var tun = kind == "tun" ? ParseTun(infoData) : null;
        link = new LinkInfo(index, name, string.IsNullOrEmpty(kind) ? null : kind, isUp, hasCarrier, mtu, address, tun);
        return true;
    }

    /// <summary>Decodes the IFLA_TUN_* attributes; missing ones keep the kernel's defaults.</summary>
    public static TunLinkInfo ParseTun(ReadOnlySpan<byte> infoData)
    {
        var mode = DeviceMode.Tun;
        bool persist = false, multiQueue = false, vnetHeader = false, packetInfo = false;
        var queues = 0;
        var disabled = 0;
        uint? owner = null;
        uint? group = null;
        var attributes = new NetlinkAttributeReader(infoData);
        while (attributes.TryRead(out var attribute))
        {
            uint u32;
            byte u8;
            switch (attribute.Type)
            {
                case P.TunType when attribute.TryGetU8(out u8):
                    mode = u8 == P.IffTap ? DeviceMode.Tap : DeviceMode.Tun;
                    break;
                case P.TunPersist when attribute.TryGetU8(out u8):
                    persist = u8 != 0;
                    break;
                case P.TunMultiQueue when attribute.TryGetU8(out u8):
                    multiQueue = u8 != 0;
                    break;
                case P.TunVnetHdr when attribute.TryGetU8(out u8):
                    vnetHeader = u8 != 0;
                    break;
                case P.TunPi when attribute.TryGetU8(out u8):
                    packetInfo = u8 != 0;
                    break;
                case P.TunNumQueues when attribute.TryGetU32(out u32):
                    queues = (int)Math.Min(u32, int.MaxValue);
                    break;
                case P.TunNumDisabledQueues when attribute.TryGetU32(out u32):
                    disabled = (int)Math.Min(u32, int.MaxValue);
                    break;
                case P.TunOwner when attribute.TryGetU32(out u32):
                    owner = u32 == NoId ? null : u32;
                    break;
                case P.TunGroup when attribute.TryGetU32(out u32):
                    group = u32 == NoId ? null : u32;
                    break;
                default:
                    break;
            }
        }

        return new TunLinkInfo(mode, persist, multiQueue, queues, disabled, vnetHeader, packetInfo, owner, group);
    }

    private static void WriteHeader(ref NetlinkMessageWriter writer, int index, uint flags = 0, uint change = 0)
    {
        var header = writer.AppendFixed(P.IfInfoSize);
        header[0] = P.AfUnspec;
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], change);
    }
}
