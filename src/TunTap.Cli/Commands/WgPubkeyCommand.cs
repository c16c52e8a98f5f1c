using System.CommandLine;
using TunTap.WireGuard;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap wg pubkey</c>: like <c>wg pubkey</c>, private key on stdin.</summary>
internal static class WgPubkeyCommand
{
    public static Command Create()
    {
        var command = new Command("pubkey", "Read a private key (base64) on stdin and print its public key, like 'wg pubkey'.");
        command.SetAction(_ =>
        {
            var text = Console.In.ReadToEnd();
            if (!WireGuardKey.TryParse(text, out var privateKey))
            {
                throw new TunTapException("the private key on stdin is not 44 characters of base64 (32 bytes)", "pipe a key in: tuntap wg genkey | tuntap wg pubkey");
            }

            Console.Out.WriteLine(privateKey.DerivePublicKey().ToBase64());
            return 0;
        });
        return command;
    }
}
