using System.CommandLine;
using TunTap.WireGuard;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap wg genkey</c>: like <c>wg genkey</c>.</summary>
internal static class WgGenkeyCommand
{
    public static Command Create()
    {
        var command = new Command("genkey", "Print a new random private key (base64 of 32 bytes, clamped for Curve25519), like 'wg genkey'.");
        command.SetAction(_ =>
        {
            Console.Out.WriteLine(WireGuardKey.GeneratePrivateKey().ToBase64());
            return 0;
        });
        return command;
    }
}
