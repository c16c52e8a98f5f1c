namespace TunTap.Netlink;

/// <summary>Receives each data message (not acks or errors) that answers a request.</summary>
internal delegate void NetlinkReplyHandler(NetlinkMessage message);
