namespace TunTap.Devices;

/// <summary>What <see cref="TunDevice.Create(TunDeviceOptions)"/> creates (or attaches to).</summary>
public sealed record TunDeviceOptions
{
    /// <summary>
    /// The interface name (at most 15 bytes). Null, or a template with <c>%d</c> such as
    /// <c>tun%d</c>, lets the kernel pick a free name; <see cref="TunDevice.Name"/> tells which.
    /// </summary>
    public string? Name { get; init; }

    /// <summary>TUN (IP packets) or TAP (Ethernet frames).</summary>
    public DeviceMode Mode { get; init; }

    /// <summary>
    /// Make the device persistent: it stays after its file descriptors are closed, until
    /// <see cref="TunDevice.SetPersist"/>(false) or <c>ip link del</c>. When false, the persist
    /// flag of an existing device is left as it was.
    /// </summary>
    public bool Persist { get; init; }

    /// <summary>A uid allowed to attach to the device without CAP_NET_ADMIN (TUNSETOWNER).</summary>
    public uint? Owner { get; init; }

    /// <summary>A gid whose members may attach to the device without CAP_NET_ADMIN (TUNSETGROUP).</summary>
    public uint? Group { get; init; }

    /// <summary>Create a multi-queue device (IFF_MULTI_QUEUE): <see cref="QueueCount"/> file descriptors.</summary>
    public bool MultiQueue { get; init; }

    /// <summary>Queues (file descriptors) to open: 1 unless <see cref="MultiQueue"/>, then 1-256.</summary>
    public int QueueCount { get; init; } = 1;

    /// <summary>
    /// Prefix every packet read and written with a 10-byte <see cref="VirtioNetHeader"/>
    /// (IFF_VNET_HDR), which <see cref="Offloads"/> need.
    /// </summary>
    public bool VnetHeader { get; init; }

    /// <summary>Offloads to accept (TUNSETOFFLOAD); only with <see cref="VnetHeader"/>.</summary>
    public TunOffloads Offloads { get; init; }

    /// <summary>Keep the 4-byte packet-information prefix (flags + protocol) on packets; off (IFF_NO_PI) by default.</summary>
    public bool PacketInformation { get; init; }

    /// <summary>Set the carrier on or off after creation (TUNSETCARRIER); null leaves it (on).</summary>
    public bool? Carrier { get; init; }
}
