using TunTap.Devices;
using TunTap.WireGuard;

namespace TunTap.Cli.Commands;

/// <summary>One end of the demo's WireGuard part: its TUN device, UDP socket and WireGuard device, stopped and removed together.</summary>
internal sealed class DemoWireGuardHost(ProvisionedDevice tun, UdpSocketTransport udp, WireGuardDevice device) : IAsyncDisposable
{
    public WireGuardDevice Device { get; } = device;

    public async ValueTask DisposeAsync()
    {
        await Device.DisposeAsync().ConfigureAwait(false);
        await udp.DisposeAsync().ConfigureAwait(false);
        await tun.DisposeAsync().ConfigureAwait(false);
    }
}
