using System.Net;
using P = TunTap.Netlink.NetlinkProtocol;

namespace TunTap.Netlink;

/// <summary>Encodes RTM_*ROUTE requests and decodes RTM_NEWROUTE replies (struct rtmsg + RTA_* attributes).</summary>
internal static class RouteMessage
{
    /// <summary>A dump of every route of both families (all tables; filter by the parsed table).</summary>
    public static void WriteDump(ref NetlinkMessageWriter writer, uint sequence)
    {
        writer.BeginMessage(P.GetRoute, P.Request | P.Dump, sequence);
        writer.AppendFixed(P.RtMsgSize);
        writer.EndMessage();
    }

    /// <summary>
    /// Adds a unicast route to the main table, like <c>ip route add</c>: protocol boot, link scope
    /// without a gateway, universe scope with one. Fails with EEXIST when the route exists.
    /// </summary>
    public static void WriteAdd(ref NetlinkMessageWriter writer, uint sequence, RouteSpec route, int? outputIndex)
    {
        writer.BeginMessage(P.NewRoute, P.Request | P.Ack | P.Create | P.Exclusive, sequence);
        var scope = route.Gateway is null ? P.RtScopeLink : P.RtScopeUniverse;
        WriteBody(ref writer, route, outputIndex, P.RtProtBoot, scope, P.RtnUnicast);
        writer.EndMessage();
    }

    /// <summary>Deletes the matching route from the main table, like <c>ip route del</c>.</summary>
    public static void WriteDelete(ref NetlinkMessageWriter writer, uint sequence, RouteSpec route, int? outputIndex)
    {
        writer.BeginMessage(P.DelRoute, P.Request | P.Ack, sequence);
        WriteBody(ref writer, route, outputIndex, 0, P.RtScopeNowhere, 0);
        writer.EndMessage();
    }

    /// <summary>Decodes an RTM_NEWROUTE payload and its table; false for other families or malformed bytes. Never throws.</summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, out RouteInfo? route, out uint table)
    {
        route = null;
        table = 0;
        if (payload.Length < P.RtMsgSize)
        {
            return false;
        }

        var family = payload[0];
        var destinationLength = payload[1];
        var size = family switch
        {
            P.AfInet => 4,
            P.AfInet6 => 16,
            _ => 0,
        };
        if (size == 0 || destinationLength > size * 8)
        {
            return false;
        }

        table = payload[4];
        IPAddress? destination = null;
        IPAddress? gateway = null;
        IPAddress? source = null;
        int? outputIndex = null;
        int? metric = null;
        var attributes = new NetlinkAttributeReader(payload[P.RtMsgSize..]);
        while (attributes.TryRead(out var attribute))
        {
            uint value;
            switch (attribute.Type)
            {
                case P.RtaDst when attribute.Payload.Length == size:
                    destination = new IPAddress(attribute.Payload);
                    break;
                case P.RtaGateway when attribute.Payload.Length == size:
                    gateway = new IPAddress(attribute.Payload);
                    break;
                case P.RtaPrefSrc when attribute.Payload.Length == size:
                    source = new IPAddress(attribute.Payload);
                    break;
                case P.RtaOif when attribute.TryGetU32(out value):
                    outputIndex = (int)Math.Min(value, int.MaxValue);
                    break;
                case P.RtaPriority when attribute.TryGetU32(out value):
                    metric = (int)Math.Min(value, int.MaxValue);
                    break;
                case P.RtaTable when attribute.TryGetU32(out value):
                    table = value;
                    break;
                default:
                    break;
            }
        }

        destination ??= family == P.AfInet ? IPAddress.Any : IPAddress.IPv6Any;
        route = new RouteInfo(new InterfaceAddress(destination, destinationLength), gateway, outputIndex, null, metric, source, payload[5], payload[6], payload[7]);
        return true;
    }

    private static void WriteBody(ref NetlinkMessageWriter writer, RouteSpec route, int? outputIndex, byte protocol, byte scope, byte type)
    {
        var destination = route.Destination;
        var header = writer.AppendFixed(P.RtMsgSize);
        header[0] = AddressMessage.FamilyOf(destination.Address);
        header[1] = (byte)destination.PrefixLength;
        header[4] = P.RtTableMain;
        header[5] = protocol;
        header[6] = scope;
        header[7] = type;
        if (destination.PrefixLength > 0)
        {
            AddressMessage.PutAddress(ref writer, P.RtaDst, InterfaceAddress.Mask(destination.Address, destination.PrefixLength));
        }

        if (route.Gateway is { } gateway)
        {
            AddressMessage.PutAddress(ref writer, P.RtaGateway, gateway);
        }

        if (outputIndex is { } index)
        {
            writer.PutU32(P.RtaOif, (uint)index);
        }

        if (route.Metric is { } metric)
        {
            writer.PutU32(P.RtaPriority, (uint)metric);
        }
    }
}
