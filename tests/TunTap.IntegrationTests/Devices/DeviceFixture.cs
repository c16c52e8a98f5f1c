using TunTap.Netlink;
using TunTap.Devices;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Devices;

/// <summary>Creates devices inside a test's namespace and runs <c>ip</c> there.</summary>
internal static class DeviceFixture
{
    public static TunDevice CreateIn(string netns, TunDeviceOptions options) =>
        NetworkNamespace.Run(netns, () => TunDevice.Create(options));

    public static async Task IpAsync(string netns, params string[] args) =>
        (await ProcessRunner.RunAsync("ip", ["-n", netns, .. args])).EnsureSuccess();

    /// <summary>Gives the kernel side <paramref name="address"/> and brings the link up.</summary>
    public static async Task UpWithAddressAsync(string netns, string device, string address)
    {
        await IpAsync(netns, "addr", "add", address, "dev", device);
        await IpAsync(netns, "link", "set", device, "up");
    }

    /// <summary>
    /// A TUN device in <paramref name="netns"/> with IPv6 off (no router solicitations in its
    /// queue), the kernel side at 10.77.0.1/24 and up.
    /// </summary>
    public static async Task<TunDevice> CreateQuietTunAsync(string netns, string name)
    {
        var device = CreateIn(netns, new TunDeviceOptions { Name = name, Mode = DeviceMode.Tun });
        try
        {
            NetworkNamespace.Run(netns, () => File.WriteAllText($"/proc/sys/net/ipv6/conf/{name}/disable_ipv6", "1"));
            await UpWithAddressAsync(netns, name, "10.77.0.1/24");
            return device;
        }
        catch
        {
            await device.DisposeAsync();
            throw;
        }
    }
}
