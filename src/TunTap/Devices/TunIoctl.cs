using TunTap.Interop;

namespace TunTap.Devices;

/// <summary>
/// The TUN/TAP ioctl requests and <c>ifr_flags</c> bits from <c>linux/if_tun.h</c>. Request numbers
/// are built the way the kernel's <c>_IOC</c> macro builds them on x86 and arm
/// (<c>dir &lt;&lt; 30 | size &lt;&lt; 16 | type &lt;&lt; 8 | nr</c>; write = 1, read = 2), so each
/// constant reads like its C definition.
/// </summary>
internal static class TunIoctl
{
    private const uint IocWrite = 1;
    private const uint IocRead = 2;
    private const uint Type = 'T';
    private const uint IntSize = sizeof(int);

    /// <summary>_IOW('T', 202, int) = 0x400454CA: create or attach (argument: struct ifreq*).</summary>
    public const uint TUNSETIFF = (IocWrite << 30) | (IntSize << 16) | (Type << 8) | 202;

    /// <summary>_IOW('T', 203, int) = 0x400454CB: persist on/off (argument: the value).</summary>
    public const uint TUNSETPERSIST = (IocWrite << 30) | (IntSize << 16) | (Type << 8) | 203;

    /// <summary>_IOW('T', 204, int) = 0x400454CC: owner uid (argument: the value).</summary>
    public const uint TUNSETOWNER = (IocWrite << 30) | (IntSize << 16) | (Type << 8) | 204;

    /// <summary>_IOW('T', 206, int) = 0x400454CE: group gid (argument: the value).</summary>
    public const uint TUNSETGROUP = (IocWrite << 30) | (IntSize << 16) | (Type << 8) | 206;

    /// <summary>_IOR('T', 207, unsigned int) = 0x800454CF: supported IFF_* flags (argument: unsigned int*).</summary>
    public const uint TUNGETFEATURES = (IocRead << 30) | (IntSize << 16) | (Type << 8) | 207;

    /// <summary>_IOW('T', 208, unsigned int) = 0x400454D0: TUN_F_* offloads (argument: the value).</summary>
    public const uint TUNSETOFFLOAD = (IocWrite << 30) | (IntSize << 16) | (Type << 8) | 208;

    /// <summary>_IOR('T', 210, unsigned int) = 0x800454D2: name and flags of the attached device (argument: struct ifreq*).</summary>
    public const uint TUNGETIFF = (IocRead << 30) | (IntSize << 16) | (Type << 8) | 210;

    /// <summary>_IOW('T', 216, int) = 0x400454D8: virtio-net header size (argument: int*).</summary>
    public const uint TUNSETVNETHDRSZ = (IocWrite << 30) | (IntSize << 16) | (Type << 8) | 216;

    /// <summary>_IOW('T', 217, int) = 0x400454D9: attach/detach a queue (argument: struct ifreq*).</summary>
    public const uint TUNSETQUEUE = (IocWrite << 30) | (IntSize << 16) | (Type << 8) | 217;

    /// <summary>_IOW('T', 220, int) = 0x400454DC: virtio-net header in little endian (argument: int*).</summary>
    public const uint TUNSETVNETLE = (IocWrite << 30) | (IntSize << 16) | (Type << 8) | 220;

    /// <summary>_IOW('T', 226, int) = 0x400454E2: carrier on/off (argument: int*).</summary>
    public const uint TUNSETCARRIER = (IocWrite << 30) | (IntSize << 16) | (Type << 8) | 226;

    public const short IFF_TUN = 0x0001;
    public const short IFF_TAP = 0x0002;
    public const short IFF_MULTI_QUEUE = 0x0100;
    public const short IFF_ATTACH_QUEUE = 0x0200;
    public const short IFF_DETACH_QUEUE = 0x0400;
    public const short IFF_PERSIST = 0x0800;
    public const short IFF_NO_PI = 0x1000;
    public const short IFF_VNET_HDR = 0x4000;

    /// <summary>The device node every TUN/TAP file descriptor is opened from.</summary>
    public const string DevicePath = "/dev/net/tun";

    /// <summary>The kernel's limit on queues of a multi-queue device (MAX_TAP_QUEUES).</summary>
    public const int MaxQueues = 256;

    /// <summary>EBADFD: the file descriptor's queue is detached (not in Errno, which holds the common ones).</summary>
    public const int EBADFD = 77;

    /// <summary>
    /// Issues one ioctl on <paramref name="fd"/>, holding a reference so a concurrent dispose cannot
    /// close (and the number be reused) mid-call; -1 becomes a <see cref="SystemCallException"/>
    /// naming <paramref name="operation"/>.
    /// </summary>
    public static unsafe void Invoke(SafeFileDescriptor fd, uint request, void* argument, string operation)
    {
        var added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            Syscall.Check(Libc.Ioctl(fd.Fd, request, argument), operation);
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }
}
