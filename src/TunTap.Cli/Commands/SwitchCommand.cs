using System.CommandLine;
using System.Globalization;
using TunTap.Capture;
using TunTap.Cli.Rendering;
using TunTap.Switching;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap switch run NAME --port SPEC...</c></summary>
internal static class SwitchCommand
{
    public static Command Create() => new("switch", "A virtual Ethernet switch joining TAP devices, QEMU VMs and VXLAN tunnels.") { CreateRun() };

    private static Command CreateRun()
    {
        var name = new Argument<string>("NAME") { Description = "The switch's name (shown in output)." };
        var ports = new Option<SwitchPortSpec[]>("--port", "-p")
        {
            Description = $"A port (repeat for more): {SwitchPortSpec.AllowedForms}.",
            HelpName = "SPEC",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
            CustomParser = result =>
            {
                var list = new SwitchPortSpec[result.Tokens.Count];
                for (var i = 0; i < list.Length; i++)
                {
                    if (SwitchPortSpec.TryParse(result.Tokens[i].Value, out var spec, out var error))
                    {
                        list[i] = spec;
                    }
                    else
                    {
                        result.AddError($"--port: {error}");
                    }
                }

                return list;
            },
        };
        var macLimit = new Option<int>("--mac-limit") { Description = "Most MAC addresses learned per port (a port's mac-limit=N overrides it).", DefaultValueFactory = _ => 1024, HelpName = "N" };
        var tableSize = new Option<int>("--mac-table-size") { Description = "Most MAC addresses learned over all ports.", DefaultValueFactory = _ => 8192, HelpName = "N" };
        var aging = new Option<double>("--aging") { Description = "Forget a MAC address not seen for this many seconds.", DefaultValueFactory = _ => 300, HelpName = "SECONDS" };
        var maxFrame = new Option<int>("--max-frame") { Description = "Longest frame switched, in bytes without FCS, one 802.1Q tag included (1518 fits MTU 1500).", DefaultValueFactory = _ => 1518, HelpName = "BYTES" };
        var pcap = CommonOptions.Pcap();
        pcap.Description = "Write every frame the switch receives (all ports) to this pcap file (Ethernet, nanosecond timestamps).";
        var interval = new Option<double>("--stats-interval") { Description = "When output is not a terminal, print the counters every this many seconds (0: only at exit).", DefaultValueFactory = _ => 1.0, HelpName = "SECONDS" };

        var command = new Command("run", """
            Run a learning Ethernet switch between TAP devices and QEMU VMs until Ctrl-C.

            Ports: tap:IFNAME creates a TAP device (tap:IFNAME@NETNS creates it in that namespace);
            qemu:unix:PATH and qemu:tcp:[ADDR:]PORT listen for a VM started with
              -netdev stream,id=n0,server=off,addr.type=unix,addr.path=PATH
            (4-byte big-endian length before every frame). A VM may disconnect and reconnect.
            vxlan:REMOTE[:PORT][@NETNS],vni=N[,local=ADDR:PORT] tunnels frames over VXLAN (RFC 7348,
            UDP port 4789 by default) to a Linux vxlan device or another switch.
            Append ,vlan=N for an access port or ,trunk=N,N-M[,native=N] for an 802.1Q trunk.

            The switch learns MAC addresses per VLAN (aging, per-port and total limits), floods
            broadcast, multicast and unknown unicast, and blocks a port whose MAC addresses keep
            moving or that floods a broadcast storm (a loop). Live per-port counters until Ctrl-C,
            then a summary; the TAP devices it created are removed.

            Example:
              tuntap switch run sw0 --port tap:sw-a@red --port tap:sw-b@blue --port qemu:unix:/tmp/vm0.sock
            """)
        {
            name, ports, macLimit, tableSize, aging, maxFrame, pcap, interval,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var switchName = parse.GetRequiredValue(name);
            var specs = parse.GetRequiredValue(ports);
            if (parse.GetValue(macLimit) < 1 || parse.GetValue(tableSize) < 1)
            {
                throw new TunTapException("--mac-limit and --mac-table-size must be at least 1", "they bound the memory the MAC table may use");
            }

            if (parse.GetValue(aging) <= 0)
            {
                throw new TunTapException($"--aging {parse.GetValue(aging).ToString(CultureInfo.InvariantCulture)} must be more than 0 seconds", "300 is the IEEE 802.1D default");
            }

            if (parse.GetValue(maxFrame) is < 64 or > 65535)
            {
                throw new TunTapException($"--max-frame {parse.GetValue(maxFrame)} is out of range; allowed: 64-65535", "1518 fits an MTU of 1500 with a VLAN tag");
            }

            void Log(string line) => Console.Error.WriteLine($"switch {switchName}: {line}");
            var options = new SwitchOptions
            {
                MaxPorts = Math.Max(64, specs.Length),
                DefaultPortMacLimit = parse.GetValue(macLimit),
                MacTableCapacity = parse.GetValue(tableSize),
                MacAgingTime = TimeSpan.FromSeconds(parse.GetValue(aging)),
                MaxFrameSize = parse.GetValue(maxFrame),
                Log = Log,
            };

            using var shutdown = new ShutdownSignal(cancellationToken);
            var pcapFile = parse.GetValue(pcap);
            await using var capture = pcapFile is null ? null : CaptureFile.Create(pcapFile.FullName, PcapLinkType.Ethernet);
            var runner = new SwitchRunner(new LearningSwitch(options), new SwitchRunnerOptions { Log = Log }, capture?.Writer);
            await using (runner.ConfigureAwait(false))
            {
                var created = new List<string>();
                foreach (var spec in specs)
                {
                    var port = spec.Open(options.MaxFrameSize, Log);
                    if (port is TapPort { Created: true } tap)
                    {
                        created.Add(tap.Name);
                    }

                    runner.AddPort(port, spec.ToConfig(port.Name));
                }

                var sets = new List<CounterSet>();
                foreach (var info in runner.ListPorts())
                {
                    sets.Add(new CounterSet(info.Name, rows => ReadCounters(info, runner.Switch, rows)));
                }

                Console.Out.WriteLine($"switch {switchName}: running with {specs.Length} port{(specs.Length == 1 ? "" : "s")}: {string.Join(", ", runner.ListPorts().Select(p => $"{p.Name} ({p.Vlan})"))}; Ctrl-C stops");
                var work = runner.RunAsync(shutdown.Token);
                await LiveCounters.RunAsync(sets, work, TimeSpan.FromSeconds(parse.GetValue(interval)), shutdown.Token).ConfigureAwait(false);

                Console.Out.WriteLine($"summary: {LiveCounters.Line(sets)}");
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"macs: {runner.Switch.MacTable.Count} learned"));
                if (pcapFile is not null)
                {
                    Console.Out.WriteLine($"capture: {pcapFile.FullName}");
                }

                foreach (var tap in created)
                {
                    Console.Out.WriteLine($"{tap}: removed");
                }
            }

            return 0;
        });
        return command;
    }

    internal static void ReadCounters(SwitchPortInfo info, LearningSwitch fabric, List<(string, long)> rows)
    {
        var counters = info.Counters;
        rows.Add(("rx-frames", counters.ReceivedFrames));
        rows.Add(("rx-bytes", counters.ReceivedBytes));
        rows.Add(("tx-frames", counters.SentFrames));
        rows.Add(("tx-bytes", counters.SentBytes));
        rows.Add(("flooded", counters.Flooded));
        rows.Add(("mac-moves", counters.MacMoves));
        rows.Add(("macs-not-learned", counters.MacsNotLearned));
        rows.Add(("blocked", fabric.HasPort(info.Id) && fabric.GetBlockReason(info.Id) is not null ? 1 : 0));
        rows.Add(("dropped", counters.Dropped));
        foreach (var reason in Enum.GetValues<SwitchDropReason>())
        {
            var count = counters.GetDropped(reason);
            if (count > 0)
            {
                rows.Add(($"dropped {reason}", count));
            }
        }

        if (info.Port is IPortCounterSource own)
        {
            own.ReadCounters(rows);
        }
    }
}
