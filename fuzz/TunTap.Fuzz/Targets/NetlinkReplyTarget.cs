using TunTap.Netlink;

namespace TunTap.Fuzz.Targets;

/// <summary>Netlink datagrams as the kernel would send them, decoded as link/address/route replies.</summary>
internal sealed class NetlinkReplyTarget : IFuzzTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        var reader = new NetlinkMessageReader(data);
        for (var i = 0; i < 1000 && reader.TryRead(out var message); i++)
        {
            _ = LinkMessage.TryParse(message.Payload, out _);
            _ = AddressMessage.TryParse(message.Payload, out _);
            _ = RouteMessage.TryParse(message.Payload, out _, out _);
        }
    }
}
