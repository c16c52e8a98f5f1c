using TunTap.Buffers;
using TunTap.Interop;

namespace TunTap.Devices;

/// <summary>
/// A TUN or TAP device this process holds open: created, or attached to when a device of that
/// name, mode and flags exists (a persistent one). Each of its <see cref="Queues"/> is a
/// non-blocking descriptor served by one shared epoll thread; the device's own
/// <see cref="ReadBatchAsync"/> and <see cref="WriteBatchAsync"/> use queue 0. Disposing closes
/// every descriptor, and a device that is not persistent disappears with them.
/// </summary>
public sealed class TunDevice : ITunDevice
{
    private readonly TunQueue[] _queues;
    private int _disposed;

    private TunDevice(string name, DeviceMode mode, TunQueue[] queues, bool multiQueue, bool vnetHeader)
    {
        Name = name;
        Mode = mode;
        _queues = queues;
        MultiQueue = multiQueue;
        VnetHeader = vnetHeader;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public DeviceMode Mode { get; }

    /// <summary>True for a multi-queue device (IFF_MULTI_QUEUE).</summary>
    public bool MultiQueue { get; }

    /// <summary>True when every packet read and written starts with a <see cref="VirtioNetHeader"/>.</summary>
    public bool VnetHeader { get; }

    /// <summary>The queues, one per file descriptor; queue 0 backs the device's own read and write.</summary>
    public IReadOnlyList<TunQueue> Queues => _queues;

    /// <summary>
    /// Creates the device, or attaches to an existing one of that name, mode and flags, and opens
    /// <see cref="TunDeviceOptions.QueueCount"/> queues.
    /// </summary>
    /// <exception cref="TunTapException">
    /// The options are inconsistent, the name is invalid or taken by another kind of device,
    /// <c>/dev/net/tun</c> is missing, or the caller lacks CAP_NET_ADMIN.
    /// </exception>
    public static TunDevice Create(TunDeviceOptions options) => Create(options, EpollReactor.Shared);

    /// <summary>The IFF_* features the kernel's TUN driver supports (TUNGETFEATURES on a fresh descriptor).</summary>
    public static unsafe TunFeatures GetFeatures()
    {
        using var fd = OpenTun();
        uint features = 0;
        Syscall.Check(Libc.Ioctl(fd.Fd, TunIoctl.TUNGETFEATURES, &features), "TUNGETFEATURES");
        return (TunFeatures)features;
    }

    /// <summary>Turns the carrier on or off (TUNSETCARRIER); off shows as NO-CARRIER and the kernel stops sending.</summary>
    public void SetCarrier(bool on) => SetIntByPointer(TunIoctl.TUNSETCARRIER, on ? 1 : 0, $"set carrier {(on ? "on" : "off")} on '{Name}'");

    /// <summary>Makes the device persistent (it outlives its descriptors) or not (TUNSETPERSIST).</summary>
    public void SetPersist(bool on) => SetByValue(ControlQueue().FileDescriptor, TunIoctl.TUNSETPERSIST, on ? 1u : 0u, $"set persist {(on ? "on" : "off")} on '{Name}'");

    /// <inheritdoc/>
    public ValueTask<int> ReadBatchAsync(PacketBatch batch, CancellationToken cancellationToken = default) =>
        _queues[0].ReadBatchAsync(batch, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<int> WriteBatchAsync(PacketBatch batch, CancellationToken cancellationToken = default) =>
        _queues[0].WriteBatchAsync(batch, cancellationToken);

    /// <summary>Closes every queue; a device that is not persistent is removed by the kernel.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var queue in _queues)
        {
            await queue.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal static TunDevice Create(TunDeviceOptions options, EpollReactor reactor)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(reactor);
        Validate(options);
        var flags = InterfaceFlags(options);
        var name = options.Name ?? "";
        var descriptors = new List<SafeFileDescriptor>(options.QueueCount);
        var queues = new List<TunQueue>(options.QueueCount);
        try
        {
            for (var i = 0; i < options.QueueCount; i++)
            {
                var fd = OpenTun();
                descriptors.Add(fd);
                name = SetInterface(fd, name, options.Mode, flags);
            }

            // These are properties of the device, not the queue: set them once, through queue 0.
            var control = descriptors[0];
            if (options.VnetHeader)
            {
                ConfigureVnetHeader(control, name, options.Offloads);
            }

            if (options.Owner is { } owner)
            {
                SetByValue(control, TunIoctl.TUNSETOWNER, owner, $"set owner of '{name}' to uid {owner}");
            }

            if (options.Group is { } group)
            {
                SetByValue(control, TunIoctl.TUNSETGROUP, group, $"set group of '{name}' to gid {group}");
            }

            if (options.Carrier is { } carrier)
            {
                SetIntByPointer(control, TunIoctl.TUNSETCARRIER, carrier ? 1 : 0, $"set carrier {(carrier ? "on" : "off")} on '{name}'");
            }

            for (var i = 0; i < descriptors.Count; i++)
            {
                queues.Add(new TunQueue(descriptors[i], name, options.Mode, i, options.MultiQueue, reactor));
            }

            // Last, so that a failure above leaves no persistent device behind.
            if (options.Persist)
            {
                SetByValue(control, TunIoctl.TUNSETPERSIST, 1, $"set persist on '{name}'");
            }

            return new TunDevice(name, options.Mode, [.. queues], options.MultiQueue, options.VnetHeader);
        }
        catch
        {
            foreach (var queue in queues)
            {
                queue.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            foreach (var fd in descriptors)
            {
                fd.Dispose();
            }

            throw;
        }
    }

    internal static void Validate(TunDeviceOptions options)
    {
        if (options.Mode is not (DeviceMode.Tun or DeviceMode.Tap))
        {
            throw new TunTapException($"unknown device mode {options.Mode}", "use tun or tap");
        }

        if (options.Name is not null)
        {
            InterfaceName.Validate(options.Name);
        }

        if (options.MultiQueue)
        {
            if (options.QueueCount is < 1 or > TunIoctl.MaxQueues)
            {
                throw new TunTapException(
                    $"queue count {options.QueueCount} is out of range; allowed: 1-{TunIoctl.MaxQueues}",
                    "the kernel allows at most 256 queues per device");
            }
        }
        else if (options.QueueCount != 1)
        {
            throw new TunTapException(
                $"queue count {options.QueueCount} needs a multi-queue device",
                "set MultiQueue (--multi-queue) or use one queue");
        }

        if (options.Offloads != TunOffloads.None && !options.VnetHeader)
        {
            throw new TunTapException(
                $"offloads ({options.Offloads}) need a virtio-net header",
                "enable VnetHeader (--vnet-hdr): the header is where the kernel describes partial checksums and segmentation");
        }

        const TunOffloads Known = TunOffloads.Checksum | TunOffloads.Tso4 | TunOffloads.Tso6 | TunOffloads.TsoEcn | TunOffloads.Ufo | TunOffloads.Uso4 | TunOffloads.Uso6;
        if ((options.Offloads & ~Known) != 0)
        {
            throw new TunTapException($"unknown offload bits 0x{(int)(options.Offloads & ~Known):x}", "use the TunOffloads values");
        }
    }

    internal static short InterfaceFlags(TunDeviceOptions options)
    {
        var flags = options.Mode == DeviceMode.Tap ? TunIoctl.IFF_TAP : TunIoctl.IFF_TUN;
        if (!options.PacketInformation)
        {
            flags |= TunIoctl.IFF_NO_PI;
        }

        if (options.VnetHeader)
        {
            flags |= TunIoctl.IFF_VNET_HDR;
        }

        if (options.MultiQueue)
        {
            flags |= TunIoctl.IFF_MULTI_QUEUE;
        }

        return flags;
    }

    private static SafeFileDescriptor OpenTun()
    {
        var fd = Libc.Open(TunIoctl.DevicePath, Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        if (fd >= 0)
        {
            return new SafeFileDescriptor(fd);
        }

        var errno = Syscall.LastErrno;
        throw errno switch
        {
            Errno.ENOENT => new TunTapException(
                $"{TunIoctl.DevicePath} does not exist",
                "load the tun module ('modprobe tun'), or create the node: mkdir -p /dev/net && mknod /dev/net/tun c 10 200",
                new SystemCallException($"open {TunIoctl.DevicePath}", errno)),
            Errno.ENODEV or Errno.ENXIO => new TunTapException(
                $"the kernel has no TUN/TAP driver behind {TunIoctl.DevicePath}",
                "load it with 'modprobe tun' (CONFIG_TUN)",
                new SystemCallException($"open {TunIoctl.DevicePath}", errno)),
            _ => new SystemCallException($"open {TunIoctl.DevicePath}", errno),
        };
    }

    /// <summary>TUNSETIFF: creates or attaches; returns the name the kernel settled on.</summary>
    private static unsafe string SetInterface(SafeFileDescriptor fd, string name, DeviceMode mode, short flags)
    {
        Span<byte> request = stackalloc byte[InterfaceRequest.Size];
        InterfaceRequest.Encode(request, name, flags);
        int result;
        fixed (byte* pointer = request)
        {
            result = Libc.Ioctl(fd.Fd, TunIoctl.TUNSETIFF, pointer);
        }

        if (result < 0)
        {
            var errno = Syscall.LastErrno;
            var kind = mode == DeviceMode.Tap ? "tap" : "tun";
            var inner = new SystemCallException($"create {kind} device '{name}'", errno);
            throw errno switch
            {
                Errno.EINVAL or Errno.EBUSY or Errno.EEXIST => new TunTapException(
                    $"interface '{name}' exists and is not a {kind} device of this mode/flags{(errno == Errno.EBUSY ? ", or another process holds it open" : "")}",
                    $"pick another name, or remove it with 'ip link del {name}'{(errno == Errno.EBUSY ? "; a single-queue device can be open only once" : "")}",
                    inner),
                _ => inner,
            };
        }

        return InterfaceRequest.DecodeName(request);
    }

    private static unsafe void ConfigureVnetHeader(SafeFileDescriptor fd, string name, TunOffloads offloads)
    {
        // Set the size explicitly (the kernel default is also 10, but an attached device may
        // have been changed) and little endian, so the header format does not depend on the host.
        SetIntByPointer(fd, TunIoctl.TUNSETVNETHDRSZ, VirtioNetHeader.Size, $"set virtio-net header size on '{name}'");
        SetIntByPointer(fd, TunIoctl.TUNSETVNETLE, 1, $"set little-endian virtio-net header on '{name}'");
        if (Libc.Ioctl(fd.Fd, TunIoctl.TUNSETOFFLOAD, (void*)(nuint)(uint)offloads) < 0)
        {
            var errno = Syscall.LastErrno;
            throw errno == Errno.EINVAL
                ? new TunTapException(
                    $"the kernel refused offloads {offloads} on '{name}'",
                    "USO4/USO6 need Linux 6.2 or later; drop the ones the kernel lacks",
                    new SystemCallException("TUNSETOFFLOAD", errno))
                : new SystemCallException($"set offloads {offloads} on '{name}'", errno);
        }
    }

    private static unsafe void SetByValue(SafeFileDescriptor fd, uint request, uint value, string operation) =>
        TunIoctl.Invoke(fd, request, (void*)(nuint)value, operation);

    private static unsafe void SetIntByPointer(SafeFileDescriptor fd, uint request, int value, string operation) =>
        TunIoctl.Invoke(fd, request, &value, operation);

    private void SetIntByPointer(uint request, int value, string operation) =>
        SetIntByPointer(ControlQueue().FileDescriptor, request, value, operation);

    /// <summary>Device-wide ioctls need a descriptor that is attached (a detached one gets EBADFD).</summary>
    private TunQueue ControlQueue()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        foreach (var queue in _queues)
        {
            if (queue.IsAttached)
            {
                return queue;
            }
        }

        throw new TunTapException($"every queue of '{Name}' is detached", "attach one (TunQueue.Attach) first");
    }
}
