namespace TunTap.Devices;

/// <summary>Which layer a virtual interface carries.</summary>
public enum DeviceMode
{
    /// <summary>Layer 3: raw IPv4/IPv6 packets.</summary>
    Tun,

    /// <summary>Layer 2: whole Ethernet frames.</summary>
    Tap,
}
