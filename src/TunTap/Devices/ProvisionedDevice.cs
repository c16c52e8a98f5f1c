using TunTap.Netlink;

namespace TunTap.Devices;

/// <summary>
/// A TUN/TAP device created (or attached to) in a namespace and configured over rtnetlink, that
/// undoes exactly what it did when disposed: a device it created goes away with its file
/// descriptors (unless made persistent), addresses it added to a device that already existed are
/// removed. Long-running commands (responder, tunnel) build on this.
/// </summary>
public sealed class ProvisionedDevice : IAsyncDisposable
{
    private readonly List<InterfaceAddress> _addedAddresses;
    private bool _disposed;

    private ProvisionedDevice(TunDevice device, RtNetlinkClient netlink, string? netns, bool created, List<InterfaceAddress> added)
    {
        Device = device;
        Netlink = netlink;
        Netns = netns;
        Created = created;
        _addedAddresses = added;
    }

    /// <summary>The open device.</summary>
    public TunDevice Device { get; }

    /// <summary>An rtnetlink client bound to the device's namespace.</summary>
    public RtNetlinkClient Netlink { get; }

    /// <summary>The namespace, or null for the caller's.</summary>
    public string? Netns { get; }

    /// <summary>True when the device did not exist before.</summary>
    public bool Created { get; }

    /// <summary>Creates or attaches to the device in the requested namespace and configures it.</summary>
    public static ProvisionedDevice Create(DeviceProvisioning spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Netns is null ? CreateHere(spec) : NetworkNamespace.Run(spec.Netns, () => CreateHere(spec));
    }

    private static ProvisionedDevice CreateHere(DeviceProvisioning spec)
    {
        var netlink = RtNetlinkClient.Open();
        TunDevice? device = null;
        try
        {
            var existed = spec.Device.Name is not null && netlink.FindLink(spec.Device.Name) is not null;
            device = TunDevice.Create(spec.Device);
            var existing = existed ? netlink.GetAddresses(device.Name) : [];
            var added = new List<InterfaceAddress>();
            if (spec.Mtu is { } mtu)
            {
                netlink.SetMtu(device.Name, mtu);
            }

            if (spec.GsoMaxSegments is { } segments)
            {
                netlink.SetGsoMaxSegments(device.Name, segments);
            }

            foreach (var address in spec.Addresses)
            {
                if (Contains(existing, address))
                {
                    continue;
                }

                netlink.AddAddress(device.Name, address, noDad: true);
                added.Add(address);
            }

            if (spec.Up)
            {
                netlink.SetUp(device.Name, true);
            }

            return new ProvisionedDevice(device, netlink, spec.Netns, !existed, existed ? added : []);
        }
        catch
        {
            device?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            netlink.Dispose();
            throw;
        }
    }

    private static bool Contains(IReadOnlyList<AddressInfo> existing, InterfaceAddress address)
    {
        foreach (var info in existing)
        {
            if (info.Address.Equals(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var address in _addedAddresses)
        {
            try
            {
                Netlink.DeleteAddress(Device.Name, address);
            }
            catch (SystemCallException)
            {
                // The device or address may already be gone; nothing left to undo.
            }
        }

        await Device.DisposeAsync().ConfigureAwait(false);
        Netlink.Dispose();
    }
}
