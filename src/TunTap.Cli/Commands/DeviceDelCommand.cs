using System.CommandLine;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap device del NAME</c></summary>
internal static class DeviceDelCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "The TUN/TAP device to delete." };
        var netns = CommonOptions.Netns();
        var command = new Command("del", "Delete a TUN/TAP device (persistent or not). Other kinds of interface are refused.") { name, netns };
        command.Aliases.Add("delete");
        command.SetAction(parse =>
        {
            var ifname = parse.GetRequiredValue(name);
            NetlinkContext.Run(parse.GetValue(netns), netlink =>
            {
                var link = netlink.GetLink(ifname);
                if (link.Tun is null)
                {
                    throw new TunTapException($"'{ifname}' is a {link.Kind ?? "physical"} interface, not a TUN/TAP device; refusing to delete it", "use 'ip link del' for other kinds of interface");
                }

                netlink.DeleteLink(ifname);
                return 0;
            });
            Console.Out.WriteLine($"{ifname}: deleted");
            return 0;
        });
        return command;
    }
}
