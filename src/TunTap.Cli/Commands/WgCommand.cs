using System.CommandLine;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap wg</c>: a WireGuard-compatible userspace VPN and its key tools.</summary>
internal static class WgCommand
{
    public static Command Create() => new("wg", "WireGuard-compatible userspace VPN. Key tools print and read keys exactly as 'wg' does.")
    {
        WgGenkeyCommand.Create(),
        WgPubkeyCommand.Create(),
        WgGenpskCommand.Create(),
    };
}
