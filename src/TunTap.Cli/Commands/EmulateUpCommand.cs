using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using TunTap.Cli.Rendering;
using TunTap.Emulation;
using TunTap.Emulation.Topology;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap emulate up FILE.toml</c>: runs a topology of namespaces joined by emulated links.</summary>
internal static class EmulateUpCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The topology file (TOML): hosts, links with their models, routers (see docs/emulation.md, 'Topologies')." };
        var name = NameOption();
        var seed = new Option<ulong?>("--seed") { Description = "Seed of every random choice (overrides the file's seed; random when neither gives one, and printed).", HelpName = "N" };
        var coarse = new Option<bool>("--coarse-timer") { Description = "Wait in whole milliseconds only (less CPU, departures ~0.5 ms late on average)." };
        var interval = new Option<double>("--stats-interval") { Description = "When output is not a terminal, print the counters every this many seconds (0: only at exit).", DefaultValueFactory = _ => 5.0, HelpName = "SECONDS" };
        var command = new Command("up", """
            Bring up a topology of hosts (network namespaces) joined by emulated links, in the foreground.

            Each host becomes a namespace NAME-HOST (NAME: the file's name = "...", else the file name,
            or --name), each link a TUN device emuN (N-th link, from 0) in both hosts with addresses
            10.77.N.1/24 and 10.77.N.2/24 unless the file gives them, and a user-space link model per
            direction. Routers get ip_forward=1, and every host gets routes to every link's subnet
            through routers. Then it prints 'emulate: ready' and live per-link counters until Ctrl-C
            or SIGTERM (or 'tuntap emulate down FILE'), and removes everything it created.

            It stays in the foreground on purpose: nothing outlives it but the namespaces, which
            'tuntap emulate down FILE' removes even after a crash. Scripts run it in the background
            (&), wait for the 'emulate: ready' line (or the control socket to appear), and stop it
            with 'tuntap emulate down FILE'. While it runs:
              tuntap emulate exec HOST -- CMD...     run a command on a host
              tuntap emulate set LINK --delay 80ms   change a link's model live (control socket
                                                     /run/tuntap/emulate-NAME.sock)

            Examples:
              tuntap emulate up examples/dumbbell.toml &
              tuntap emulate exec s1 -- ping -c 3 10.77.4.2
              tuntap emulate set bottleneck --rate 5mbit
              tuntap emulate down examples/dumbbell.toml
            """)
        {
            file, name, seed, coarse, interval,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetRequiredValue(file).FullName;
            var definition = TopologyParser.ParseFile(path, parse.GetValue(name));
            var plan = TopologyPlan.Create(definition);
            var seedValue = parse.GetValue(seed) ?? definition.Seed ?? (ulong)RandomNumberGenerator.GetInt32(int.MaxValue);
            using var shutdown = new ShutdownSignal(cancellationToken);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(shutdown.Token);
            var socketPath = EmulationControlServer.SocketPathFor(definition.Name);
            if (EmulationControlServer.IsListening(socketPath))
            {
                throw new TunTapException($"an emulation named {definition.Name} is already running (control socket {socketPath})", "stop it with 'tuntap emulate down FILE', or pick another --name");
            }

            Console.Out.WriteLine($"emulate: topology {definition.Name}: {definition.Hosts.Count} hosts, {definition.Links.Count} links, seed {seedValue}");
            var linkOptions = new EmulatedLinkOptions
            {
                MaxPacketSize = definition.Mtu,
                PreciseSleepWindow = parse.GetValue(coarse) ? TimeSpan.Zero : TimeSpan.FromMilliseconds(1),
            };
            await using var runner = TopologyRunner.Start(plan, seedValue, linkOptions, line => Console.Out.WriteLine(line));
            var handler = new EmulationControlHandler(definition.Name, runner.Links, () => stop.Cancel());
            await using var control = EmulationControlServer.Listen(socketPath, handler, line => Console.Error.WriteLine($"tuntap: {line}"));
            Console.Out.WriteLine($"emulate: ready; control socket {socketPath}; Ctrl-C or 'tuntap emulate down {parse.GetRequiredValue(file)}' stops");
            var sets = new List<CounterSet>();
            foreach (var link in runner.Links)
            {
                sets.Add(Counters(link.Link.AToB, $"{link.Name} a->b ({link.A} -> {link.B})"));
                sets.Add(Counters(link.Link.BToA, $"{link.Name} b->a ({link.B} -> {link.A})"));
            }

            var work = runner.RunAsync(stop.Token);
            await LiveCounters.RunAsync(sets, work, TimeSpan.FromSeconds(parse.GetValue(interval)), stop.Token).ConfigureAwait(false);
            Console.Out.WriteLine($"summary: {LiveCounters.Line(sets)}");
            return 0;
        });
        return command;
    }

    /// <summary><c>--name NAME</c>, shared by the topology commands: which emulation (namespaces NAME-HOST, socket emulate-NAME.sock).</summary>
    internal static Option<string?> NameOption(string description = "The emulation's name: its namespaces are NAME-HOST. Default: the file's name = \"...\", else the file name without .toml.") => new("--name")
    {
        Description = description,
        HelpName = "NAME",
    };

    private static CounterSet Counters(LinkPump pump, string title)
    {
        var meter = new ThroughputMeter(Stopwatch.Frequency, TimeSpan.FromSeconds(1));
        return new CounterSet(title, rows =>
        {
            var device = pump.Counters;
            rows.Add(("offered", device.ReadPackets));
            pump.ReadModelCounters(model =>
            {
                rows.Add(("dropped", model.DroppedTotal));
                rows.Add(("in-flight", model.InFlightPackets));
                rows.Add(("queue packets", model.QueuePackets));
            });
            rows.Add(("written", device.WrittenPackets));
            rows.Add(("throughput kbit/s", meter.Sample(device.WrittenBytes, Stopwatch.GetTimestamp()) / 1000));
        });
    }
}
