using System.CommandLine;
using TunTap.WireGuard;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap wg genpsk</c>: like <c>wg genpsk</c>.</summary>
internal static class WgGenpskCommand
{
    public static Command Create()
    {
        var command = new Command("genpsk", "Print a new random preshared key (base64 of 32 bytes), like 'wg genpsk'.");
        command.SetAction(_ =>
        {
            Console.Out.WriteLine(WireGuardKey.GeneratePresharedKey().ToBase64());
            return 0;
        });
        return command;
    }
}
