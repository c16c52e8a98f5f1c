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
}
