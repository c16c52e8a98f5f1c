namespace TunTap.Devices;

/// <summary>The <c>IFF_*</c> flags the running kernel's TUN driver supports, as <see cref="TunDevice.GetFeatures"/> reports them (<c>TUNGETFEATURES</c>).</summary>
[Flags]
public enum TunFeatures
{
    /// <summary>Nothing reported.</summary>
    None = 0,

    /// <summary>IFF_TUN: layer-3 devices.</summary>
    Tun = 0x0001,

    /// <summary>IFF_TAP: layer-2 devices.</summary>
    Tap = 0x0002,

    /// <summary>IFF_NAPI: NAPI-driven receive.</summary>
    Napi = 0x0010,

    /// <summary>IFF_NAPI_FRAGS: NAPI with fragmented frames.</summary>
    NapiFrags = 0x0020,

    /// <summary>IFF_NO_CARRIER: create with the carrier off.</summary>
    NoCarrier = 0x0040,

    /// <summary>IFF_MULTI_QUEUE: several file descriptors per device.</summary>
    MultiQueue = 0x0100,

    /// <summary>IFF_ATTACH_QUEUE (a TUNSETQUEUE request, not normally reported).</summary>
    AttachQueue = 0x0200,

    /// <summary>IFF_DETACH_QUEUE (a TUNSETQUEUE request, not normally reported).</summary>
    DetachQueue = 0x0400,

    /// <summary>IFF_PERSIST (device state, not normally reported).</summary>
    Persist = 0x0800,

    /// <summary>IFF_NO_PI: packets without the 4-byte packet-information prefix.</summary>
    NoPacketInformation = 0x1000,

    /// <summary>IFF_ONE_QUEUE: obsolete, always accepted.</summary>
    OneQueue = 0x2000,

    /// <summary>IFF_VNET_HDR: packets prefixed with a virtio-net header.</summary>
    VnetHeader = 0x4000,

    /// <summary>IFF_TUN_EXCL: fail instead of attaching when the device exists.</summary>
    Exclusive = 0x8000,
}
