using System.CommandLine;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap wg</c>: a WireGuard-compatible userspace VPN and its key tools.</summary>
internal static class WgCommand
{
    public static Command Create()
    {
        var command = new Command("wg", """
            WireGuard-compatible userspace VPN, a drop-in for wireguard-go.

            'tuntap wg IFNAME' creates the TUN device IFNAME (link down, no address, MTU 1420) and
            serves /var/run/wireguard/IFNAME.sock, so the real 'wg' and 'wg-quick' configure and show
            it. Without -f it detaches like wireguard-go; it exits when the device is deleted
            (ip link del IFNAME) or on SIGTERM/SIGINT. genkey, pubkey and genpsk are commands, so
            they cannot be interface names. Key tools print and read keys exactly as 'wg' does.

            Example:
              tuntap wg -f wg0 &
              wg set wg0 private-key ./private.key listen-port 51820 peer PUBKEY allowed-ips 10.9.0.2/32 endpoint 192.0.2.2:51820
              ip addr add 10.9.0.1/24 dev wg0 && ip link set wg0 up
            """)
        {
            WgGenkeyCommand.Create(),
            WgPubkeyCommand.Create(),
            WgGenpskCommand.Create(),
        };
        WgInterfaceCommand.AddTo(command);
        return command;
    }
}
