using System.CommandLine;
using Spectre.Console;
using TunTap.Switching;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap switch port add|del|unblock|list NAME ...</c>: change a running switch's ports over its control socket.</summary>
internal static class SwitchPortCommand
{
    public static Command Create() => new("port", "Add, remove, unblock or list the ports of a running switch.") { CreateAdd(), CreateDel(), CreateUnblock(), CreateList() };

    private static Command CreateAdd()
    {
        var name = SwitchControlCall.SwitchName();
        var spec = new Argument<string>("SPEC") { Description = $"The port: {SwitchPortSpec.AllowedForms}." };
        var command = new Command("add", "Open a port (TAP device, QEMU socket, VXLAN tunnel) on a running switch; it forwards at once.") { name, spec };
        command.SetAction((parse, cancellationToken) => SwitchControlCall.RunAsync(
            parse.GetRequiredValue(name),
            new SwitchControlRequest(SwitchControlCommand.PortAdd, parse.GetRequiredValue(spec)),
            json: false,
            answer =>
            {
                var row = SwitchControlCall.PortRow(answer.GetProperty("port"));
                Console.Out.WriteLine($"port {row[0]}: {row[1]} ({row[2]}) added");
            },
            cancellationToken));
        return command;
    }

    private static Command CreateDel()
    {
        var command = CreateForPort("del", "Remove a port from a running switch (a TAP device it created is deleted, its MACs forgotten).", SwitchControlCommand.PortDel, "removed");
        command.Aliases.Add("delete");
        return command;
    }

    private static Command CreateUnblock() =>
        CreateForPort("unblock", "Let a port that loop protection blocked forward again now, without waiting for --block-time (it is blocked again if the loop persists).", SwitchControlCommand.PortUnblock, "unblocked");

    /// <summary>A command <c>VERB NAME PORT</c> that sends <paramref name="request"/> for one port and prints <c>port ID: NAME DONE</c> from the answer's <paramref name="done"/> property.</summary>
    private static Command CreateForPort(string verb, string description, SwitchControlCommand request, string done)
    {
        var name = SwitchControlCall.SwitchName();
        var port = new Argument<string>("PORT") { Description = "The port's id or name, as 'tuntap switch port list' shows them." };
        var command = new Command(verb, description) { name, port };
        command.SetAction((parse, cancellationToken) => SwitchControlCall.RunAsync(
            parse.GetRequiredValue(name),
            new SwitchControlRequest(request, parse.GetRequiredValue(port)),
            json: false,
            answer =>
            {
                var row = SwitchControlCall.PortRow(answer.GetProperty(done));
                Console.Out.WriteLine($"port {row[0]}: {row[1]} {done}");
            },
            cancellationToken));
        return command;
    }

    private static Command CreateList()
    {
        var name = SwitchControlCall.SwitchName();
        var json = SwitchControlCall.Json("switch, macs, ports: id, name, vlan, blocked, failure");
        var command = new Command("list", "List a running switch's ports: id, name, VLANs and state.") { name, json };
        command.Aliases.Add("ls");
        command.SetAction((parse, cancellationToken) => SwitchControlCall.RunAsync(
            parse.GetRequiredValue(name),
            new SwitchControlRequest(SwitchControlCommand.PortList),
            parse.GetValue(json),
            answer =>
            {
                var table = new Table().Border(TableBorder.Simple).AddColumns("ID", "PORT", "VLAN", "STATE");
                foreach (var port in answer.GetProperty("ports").EnumerateArray())
                {
                    var row = SwitchControlCall.PortRow(port);
                    table.AddRow(row[0], Markup.Escape(row[1]), Markup.Escape(row[2]), Markup.Escape(row[3]));
                }

                AnsiConsole.Write(table);
            },
            cancellationToken));
        return command;
    }
}
