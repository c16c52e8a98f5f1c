using System.CommandLine;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap device</c>: create, delete and inspect TUN/TAP devices.</summary>
internal static class DeviceCommand
{
    public static Command Create() => new("device", "Create, delete and inspect TUN/TAP devices (over /dev/net/tun and rtnetlink; no 'ip' needed).")
    {
        DeviceAddCommand.Create(),
        DeviceDelCommand.Create(),
        DeviceListCommand.Create(),
        DeviceShowCommand.Create(),
    };
}
