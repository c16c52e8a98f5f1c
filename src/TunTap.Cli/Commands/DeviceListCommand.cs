using System.CommandLine;
using Spectre.Console;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap device list [--json]</c></summary>
internal static class DeviceListCommand
{
    public static Command Create()
    {
        var netns = CommonOptions.Netns();
        var json = new Option<bool>("--json") { Description = "Print a JSON array (name, index, mode, state, up, carrier, mtu, owner, group, persist, multi_queue, queues, vnet_hdr, pi, mac, addresses)." };
        var command = new Command("list", "List the TUN/TAP devices with their mode, state, MTU, owner, group, flags and addresses.") { netns, json };
        command.Aliases.Add("ls");
        command.SetAction(parse =>
        {
            var reports = NetlinkContext.Run(parse.GetValue(netns), DeviceReport.ReadAll);
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(DeviceReport.ToJson(reports, array: true));
                return 0;
            }

            if (reports.Count == 0)
            {
                Console.Out.WriteLine("no TUN/TAP devices");
                return 0;
            }

            var table = new Table().Border(TableBorder.Simple)
                .AddColumns("NAME", "MODE", "STATE", "MTU", "OWNER", "GROUP", "FLAGS", "ADDRESSES");
            foreach (var r in reports)
            {
                table.AddRow(
                    Markup.Escape(r.Link.Name),
                    r.Mode,
                    r.State,
                    r.Link.Mtu.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    DeviceReport.FormatId(r.Tun.Owner),
                    DeviceReport.FormatId(r.Tun.Group),
                    r.Flags,
                    Markup.Escape(r.Addresses.Count == 0 ? "-" : string.Join(' ', r.Addresses)));
            }

            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
