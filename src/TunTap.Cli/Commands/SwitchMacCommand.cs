using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TunTap.Switching;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap switch mac NAME [--json]</c>: a running switch's MAC table.</summary>
internal static class SwitchMacCommand
{
    public static Command Create()
    {
        var name = SwitchControlCall.SwitchName();
        var json = SwitchControlCall.Json("switch, macs: mac, vlan, port, port_name, age_seconds");
        var command = new Command("mac", "Show the MAC addresses a running switch learned: VLAN, port and age.") { name, json };
        command.SetAction((parse, cancellationToken) => SwitchControlCall.RunAsync(
            parse.GetRequiredValue(name),
            new SwitchControlRequest(SwitchControlCommand.Mac),
            parse.GetValue(json),
            answer =>
            {
                var macs = answer.GetProperty("macs");
                if (macs.GetArrayLength() == 0)
                {
                    Console.Out.WriteLine("no MAC addresses learned");
                    return;
                }

                var table = new Table().Border(TableBorder.Simple).AddColumns("MAC", "VLAN", "PORT", "AGE");
                foreach (var mac in macs.EnumerateArray())
                {
                    table.AddRow(
                        SwitchControlCall.Text(mac, "mac"),
                        mac.GetProperty("vlan").GetInt32().ToString(CultureInfo.InvariantCulture),
                        Markup.Escape($"{mac.GetProperty("port").GetInt32().ToString(CultureInfo.InvariantCulture)} {SwitchControlCall.Text(mac, "port_name")}"),
                        mac.GetProperty("age_seconds").GetDouble().ToString("0.0", CultureInfo.InvariantCulture) + "s");
                }

                AnsiConsole.Write(table);
            },
            cancellationToken));
        return command;
    }
}
