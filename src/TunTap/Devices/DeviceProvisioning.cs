namespace TunTap.Devices;

/// <summary>What <see cref="ProvisionedDevice.Create"/> should set up: a device, where, and how it is configured.</summary>
public sealed record DeviceProvisioning
{
    /// <summary>The device to create or attach to.</summary>
    public required TunDeviceOptions Device { get; init; }

    /// <summary>The named network namespace to create it in; null for the caller's.</summary>
    public string? Netns { get; init; }

    /// <summary>Addresses to assign to the kernel side of the device (IPv6 without duplicate address detection).</summary>
    public IReadOnlyList<InterfaceAddress> Addresses { get; init; } = [];

    /// <summary>MTU to set; null keeps the kernel's default (1500).</summary>
    public int? Mtu { get; init; }

    /// <summary>
    /// The most segments one super packet the kernel hands the device may have
    /// (<c>gso_max_segs</c>); null keeps the kernel's default (65535). Only devices with offloads
    /// get super packets.
    /// </summary>
    public int? GsoMaxSegments { get; init; }

    /// <summary>Bring the link up.</summary>
    public bool Up { get; init; } = true;
}
