namespace TunTap.Switching;

/// <summary>What a <see cref="SwitchPortSpec"/> names.</summary>
public enum SwitchPortKind
{
    /// <summary>A TAP device (<c>tap:IFNAME[@NETNS]</c>).</summary>
    Tap,

    /// <summary>A Unix socket QEMU connects to (<c>qemu:unix:PATH</c>).</summary>
    QemuUnix,

    /// <summary>A TCP socket QEMU connects to (<c>qemu:tcp:[ADDR:]PORT</c>).</summary>
    QemuTcp,

    /// <summary>A VXLAN tunnel to one or more remote endpoints (<c>vxlan:REMOTE[:PORT][+REMOTE...][@NETNS],vni=N</c>).</summary>
    Vxlan,

    /// <summary>A UDP socket for QEMU's <c>-netdev dgram</c>, one frame per datagram (<c>qemu:dgram:[ADDR:]PORT[@NETNS][,remote=ADDR:PORT]</c>).</summary>
    QemuDgram,

    /// <summary>A Unix datagram socket for QEMU's <c>-netdev dgram</c> (<c>qemu:dgram:unix:PATH[,remote=PATH]</c>).</summary>
    QemuDgramUnix,
}
