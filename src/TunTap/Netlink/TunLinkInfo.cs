using TunTap.Devices;

namespace TunTap.Netlink;

/// <summary>The TUN/TAP settings the kernel reports in IFLA_INFO_DATA (IFLA_TUN_*) of a <c>tun</c> link.</summary>
/// <param name="Mode">TUN (layer 3) or TAP (layer 2).</param>
/// <param name="Persist">The device outlives its file descriptors (TUNSETPERSIST).</param>
/// <param name="MultiQueue">Created with IFF_MULTI_QUEUE.</param>
/// <param name="NumQueues">Queues currently attached (open file descriptors).</param>
/// <param name="NumDisabledQueues">Attached queues that are disabled (TUNSETQUEUE IFF_DETACH_QUEUE).</param>
/// <param name="VnetHeader">Packets carry a virtio-net header (IFF_VNET_HDR).</param>
/// <param name="PacketInfo">Packets carry the 4-byte packet-information prefix (no IFF_NO_PI).</param>
/// <param name="Owner">The uid allowed to attach, or null for none.</param>
/// <param name="Group">The gid allowed to attach, or null for none.</param>
public sealed record TunLinkInfo(DeviceMode Mode, bool Persist, bool MultiQueue, int NumQueues, int NumDisabledQueues, bool VnetHeader, bool PacketInfo, uint? Owner, uint? Group);
