using System.CommandLine;
using System.Globalization;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap device show NAME</c></summary>
internal static class DeviceShowCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "The TUN/TAP device to show." };
        var netns = CommonOptions.Netns();
        var json = new Option<bool>("--json") { Description = "Print one JSON object (same fields as 'device list --json')." };
        var command = new Command("show", "Show one TUN/TAP device in detail.") { name, netns, json };
        command.SetAction(parse =>
        {
            var ifname = parse.GetRequiredValue(name);
            var r = NetlinkContext.Run(parse.GetValue(netns), netlink => DeviceReport.ReadOne(netlink, ifname));
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(DeviceReport.ToJson([r], array: false));
                return 0;
            }

            var o = Console.Out;
            o.WriteLine($"{r.Link.Name} (index {r.Link.Index.ToString(CultureInfo.InvariantCulture)})");
            o.WriteLine($"  mode       {r.Mode}");
            o.WriteLine($"  state      {r.State}");
            o.WriteLine($"  mtu        {r.Link.Mtu.ToString(CultureInfo.InvariantCulture)}");
            if (r.Link.Address is { } mac && r.Mode == "tap")
            {
                o.WriteLine($"  mac        {DeviceReport.FormatMac(mac.GetAddressBytes())}");
            }

            o.WriteLine($"  owner      {DeviceReport.FormatId(r.Tun.Owner)}");
            o.WriteLine($"  group      {DeviceReport.FormatId(r.Tun.Group)}");
            o.WriteLine($"  persist    {(r.Tun.Persist ? "yes" : "no")}");
            o.WriteLine($"  queues     {r.Tun.NumQueues.ToString(CultureInfo.InvariantCulture)}{(r.Tun.MultiQueue ? " (multi-queue)" : "")}");
            o.WriteLine($"  vnet_hdr   {(r.Tun.VnetHeader ? "yes" : "no")}");
            o.WriteLine($"  pi         {(r.Tun.PacketInfo ? "yes" : "no")}");
            o.WriteLine($"  addresses  {(r.Addresses.Count == 0 ? "-" : string.Join(' ', r.Addresses))}");
            return 0;
        });
        return command;
    }
}
