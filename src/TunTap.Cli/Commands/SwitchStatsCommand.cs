using System.CommandLine;
using System.Globalization;
using TunTap.Switching;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap switch stats NAME [--json]</c>: a running switch's per-port counters.</summary>
internal static class SwitchStatsCommand
{
    public static Command Create()
    {
        var name = SwitchControlCall.SwitchName();
        var json = SwitchControlCall.Json("switch, macs, ports: id, name, vlan, blocked, failure, counters");
        var command = new Command("stats", "Show a running switch's counters: one line per port (frames, bytes, floods, drops by reason).") { name, json };
        command.SetAction((parse, cancellationToken) => SwitchControlCall.RunAsync(
            parse.GetRequiredValue(name),
            new SwitchControlRequest(SwitchControlCommand.Stats),
            parse.GetValue(json),
            answer =>
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"switch {SwitchControlCall.Text(answer, "switch")}: {answer.GetProperty("macs").GetInt32()} MACs learned"));
                foreach (var port in answer.GetProperty("ports").EnumerateArray())
                {
                    var fields = new List<string>();
                    foreach (var counter in port.GetProperty("counters").EnumerateObject())
                    {
                        fields.Add(string.Create(CultureInfo.InvariantCulture, $"{counter.Name}={counter.Value.GetInt64()}"));
                    }

                    Console.Out.WriteLine($"{SwitchControlCall.Text(port, "name")}: {string.Join(' ', fields)}");
                }
            },
            cancellationToken));
        return command;
    }
}
