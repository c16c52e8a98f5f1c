using TunTap.Devices;
using TunTap.Netlink;

namespace TunTap.Emulation;

/// <summary>
/// An <see cref="EmulatedLink"/> between two network namespaces: a TUN device in each, addressed on
/// one subnet, joined in user space through one <see cref="LinkModel"/> per direction, so programs
/// in one namespace reach the other through the models. <see cref="RunAsync"/> moves packets until
/// cancelled; disposing removes both devices.
/// </summary>
/// <example>
/// <code>
/// await using var link = await NamespaceLink.CreateAsync(
///     new NamespaceLinkEnd("left", "emu0", InterfaceAddress.Parse("10.200.0.1/24")),
///     new NamespaceLinkEnd("right", "emu0", InterfaceAddress.Parse("10.200.0.2/24")),
///     LinkSpecParser.Parse("delay 50ms loss 1%"), LinkSpecParser.Parse("delay 50ms"), seed: 7);
/// await link.RunAsync(cancellationToken);   // ping 10.200.0.2 from 'left': RTT ~100 ms
/// </code>
/// </example>
public sealed class NamespaceLink : IAsyncDisposable
{
    private NamespaceLink(NamespaceLinkEnd a, NamespaceLinkEnd b, ProvisionedDevice deviceA, ProvisionedDevice deviceB, EmulatedLink link)
    {
        A = a;
        B = b;
        DeviceA = deviceA;
        DeviceB = deviceB;
        Link = link;
    }

    /// <summary>End A as configured.</summary>
    public NamespaceLinkEnd A { get; }

    /// <summary>End B as configured.</summary>
    public NamespaceLinkEnd B { get; }

    /// <summary>End A's TUN device (and an rtnetlink client in its namespace).</summary>
    public ProvisionedDevice DeviceA { get; }

    /// <summary>End B's TUN device.</summary>
    public ProvisionedDevice DeviceB { get; }

    /// <summary>The link between the devices: its pumps' counters, and <see cref="LinkPump.Reconfigure"/> to change a model live.</summary>
    public EmulatedLink Link { get; }

    /// <summary>
    /// Creates the two devices and the link, A to B running <paramref name="aToB"/> seeded with
    /// <paramref name="seed"/> and B to A running <paramref name="bToA"/> seeded with
    /// <paramref name="seed"/> + 1 (the convention <c>tuntap emulate link --seed</c> documents), both
    /// on the clock of <paramref name="options"/>.
    /// </summary>
    /// <param name="a">End A.</param>
    /// <param name="b">End B.</param>
    /// <param name="aToB">The model of packets A sends.</param>
    /// <param name="bToA">The model of packets B sends.</param>
    /// <param name="seed">The seed of A to B's random choices.</param>
    /// <param name="options">How the link runs; <see cref="EmulatedLinkOptions.MaxPacketSize"/> is also the devices' MTU.</param>
    /// <exception cref="TunTapException">A namespace is missing, a device exists already, or the kernel refused a step; nothing is left behind.</exception>
    public static Task<NamespaceLink> CreateAsync(NamespaceLinkEnd a, NamespaceLinkEnd b, LinkModelOptions aToB, LinkModelOptions bToA, ulong seed, EmulatedLinkOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(aToB);
        ArgumentNullException.ThrowIfNull(bToA);
        var time = (options ?? new EmulatedLinkOptions()).TimeProvider;
        return CreateAsync(a, b, LinkModel.Create(aToB, time, seed), LinkModel.Create(bToA, time, seed + 1), options);
    }

    /// <summary>Creates the two devices and joins them through models the caller built (on the clock of <paramref name="options"/>).</summary>
    /// <param name="a">End A.</param>
    /// <param name="b">End B.</param>
    /// <param name="aToB">The model of packets A sends.</param>
    /// <param name="bToA">The model of packets B sends (another instance).</param>
    /// <param name="options">How the link runs; <see cref="EmulatedLinkOptions.MaxPacketSize"/> is also the devices' MTU.</param>
    /// <exception cref="TunTapException">A namespace is missing, a device exists already, or the kernel refused a step; nothing is left behind.</exception>
    public static async Task<NamespaceLink> CreateAsync(NamespaceLinkEnd a, NamespaceLinkEnd b, LinkModel aToB, LinkModel bToA, EmulatedLinkOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        options ??= new EmulatedLinkOptions();

        // The default packet size is the kernel's default MTU: leave the devices' MTU alone then.
        var mtu = options.MaxPacketSize == 1500 ? (int?)null : options.MaxPacketSize;
        var deviceA = Provision(a, mtu);
        ProvisionedDevice? deviceB = null;
        try
        {
            deviceB = Provision(b, mtu);
            return new NamespaceLink(a, b, deviceA, deviceB, new EmulatedLink(deviceA.Device, deviceB.Device, aToB, bToA, options));
        }
        catch
        {
            if (deviceB is not null)
            {
                await deviceB.DisposeAsync().ConfigureAwait(false);
            }

            await deviceA.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Moves packets both ways until <paramref name="cancellationToken"/> fires (see <see cref="EmulatedLink.RunAsync"/>). Runs once.</summary>
    public Task RunAsync(CancellationToken cancellationToken) => Link.RunAsync(cancellationToken);

    /// <summary>Stops nothing (cancel <see cref="RunAsync"/> first) but releases the link and removes both devices.</summary>
    public async ValueTask DisposeAsync()
    {
        Link.Dispose();
        await DeviceB.DisposeAsync().ConfigureAwait(false);
        await DeviceA.DisposeAsync().ConfigureAwait(false);
    }

    private static ProvisionedDevice Provision(NamespaceLinkEnd end, int? mtu)
    {
        // A device takes disable_ipv6 from 'default' when it is created: set that around the
        // creation, so the device never sends a router solicitation or MLD report, then restore it.
        var previous = end.Ipv6 ? null : NetworkNamespace.Run(end.Netns, () => SetIpv6Sysctl("default", "1"));
        try
        {
            var device = ProvisionedDevice.Create(new DeviceProvisioning
            {
                Device = new TunDeviceOptions { Name = end.Device, Mode = DeviceMode.Tun },
                Netns = end.Netns,
                Addresses = [end.Address],
                Mtu = mtu,
            });
            if (!end.Ipv6)
            {
                NetworkNamespace.Run(end.Netns, () => SetIpv6Sysctl(device.Device.Name, "1"));
            }

            return device;
        }
        finally
        {
            if (previous is not null)
            {
                NetworkNamespace.Run(end.Netns, () => SetIpv6Sysctl("default", previous));
            }
        }
    }

    /// <summary>Writes net.ipv6.conf.DEVICE.disable_ipv6 in the calling thread's namespace; returns the old value (null without IPv6 in the kernel).</summary>
    private static string? SetIpv6Sysctl(string device, string value)
    {
        var path = $"/proc/sys/net/ipv6/conf/{device}/disable_ipv6";
        if (!File.Exists(path))
        {
            return null;
        }

        var old = File.ReadAllText(path).Trim();
        File.WriteAllText(path, value);
        return old;
    }
}
