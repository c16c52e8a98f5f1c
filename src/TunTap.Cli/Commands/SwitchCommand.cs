using System.CommandLine;
using System.Globalization;
using TunTap.Capture;
using TunTap.Cli.Rendering;
using TunTap.Switching;
using TunTap.Switching.Dhcp;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap switch run NAME --port SPEC...</c></summary>
internal static class SwitchCommand
{
    public static Command Create() => new("switch", "A virtual Ethernet switch joining TAP devices, QEMU VMs and VXLAN tunnels.")
    {
        CreateRun(),
        SwitchPortCommand.Create(),
        SwitchMacCommand.Create(),
        SwitchStatsCommand.Create(),
    };

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
        var gateway = new Option<InterfaceAddress[]>("--gateway")
        {
            Description = "Answer ARP/NDP and ping (and UDP echo, port 7) for this address, as the segment's gateway would (repeat for IPv4 and IPv6); nothing is routed.",
            HelpName = "CIDR",
            AllowMultipleArgumentsPerToken = false,
            CustomParser = result =>
            {
                var list = new InterfaceAddress[result.Tokens.Count];
                for (var i = 0; i < list.Length; i++)
                {
                    if (!InterfaceAddress.TryParse(result.Tokens[i].Value, out list[i]))
                    {
                        result.AddError($"--gateway: '{result.Tokens[i].Value}' is not ADDRESS/PREFIX (e.g. 10.0.0.1/24 or fd00::1/64)");
                    }
                }

                return list;
            },
        };
        var gatewayVlan = new Option<int>("--gateway-vlan") { Description = "The VLAN the gateway is in.", DefaultValueFactory = _ => 1, HelpName = "N" };
        var dhcp = new Option<DhcpRange?>("--dhcp")
        {
            Description = "Serve DHCP on the gateway's IPv4 address, handing out START-END of its subnet (e.g. 10.0.0.100-10.0.0.200).",
            HelpName = "START-END",
            CustomParser = result =>
            {
                if (DhcpRange.TryParse(result.Tokens[0].Value, out var range, out var error))
                {
                    return range;
                }

                result.AddError($"--dhcp: {error}");
                return null;
            },
        };
        var dns = new Option<System.Net.IPAddress[]>("--dns")
        {
            Description = "DNS server handed out by DHCP (repeat for more; default: the gateway).",
            HelpName = "ADDR",
            AllowMultipleArgumentsPerToken = false,
            CustomParser = result =>
            {
                var list = new System.Net.IPAddress[result.Tokens.Count];
                for (var i = 0; i < list.Length; i++)
                {
                    if (!System.Net.IPAddress.TryParse(result.Tokens[i].Value, out list[i]!))
                    {
                        result.AddError($"--dns: '{result.Tokens[i].Value}' is not an IP address");
                    }
                }

                return list;
            },
        };
        var leaseTime = new Option<TimeSpan?>("--lease-time")
        {
            Description = "How long a DHCP lease runs: seconds or 90s, 30m, 1h, 1d (default 1h).",
            HelpName = "DURATION",
            CustomParser = result =>
            {
                if (DhcpServerOptions.TryParseLeaseTime(result.Tokens[0].Value, out var time))
                {
                    return time;
                }

                result.AddError($"--lease-time: '{result.Tokens[0].Value}' is not a duration (e.g. 3600, 30m, 1h)");
                return null;
            },
        };
        var leases = new Option<string?>("--dhcp-leases") { Description = "Keep DHCP leases in this file across restarts (default /var/lib/tuntap/switch-NAME.leases).", HelpName = "FILE" };
        var hosts = new Option<DhcpReservation[]>("--dhcp-host")
        {
            Description = "A static DHCP lease: this MAC always gets this address (repeat for more).",
            HelpName = "MAC=IP",
            AllowMultipleArgumentsPerToken = false,
            CustomParser = result =>
            {
                var list = new DhcpReservation[result.Tokens.Count];
                for (var i = 0; i < list.Length; i++)
                {
                    if (!DhcpReservation.TryParse(result.Tokens[i].Value, out list[i], out var error))
                    {
                        result.AddError($"--dhcp-host: {error}");
                    }
                }

                return list;
            },
        };
        var interval = new Option<double>("--stats-interval") { Description = "When output is not a terminal, print the counters every this many seconds (0: only at exit).", DefaultValueFactory = _ => 1.0, HelpName = "SECONDS" };
        var blockTime = new Option<double>("--block-time") { Description = "A port blocked by loop protection forwards again after this many seconds (blocked again if the loop persists); 0: for as long as the switch runs.", DefaultValueFactory = _ => 30, HelpName = "SECONDS" };
        var mirroring = new SwitchMirrorOptions();

        var command = new Command("run", """
            Run a learning Ethernet switch between TAP devices, QEMU VMs and VXLAN tunnels until Ctrl-C.

            Ports: tap:IFNAME creates a TAP device (tap:IFNAME@NETNS creates it in that namespace);
            qemu:unix:PATH and qemu:tcp:[ADDR:]PORT listen for a VM started with
              -netdev stream,id=n0,server=off,addr.type=unix,addr.path=PATH
            (4-byte big-endian length before every frame). A VM may disconnect and reconnect.
            qemu:dgram:[ADDR:]PORT[@NETNS][,remote=ADDR:PORT] (or qemu:dgram:unix:PATH[,remote=PATH])
            takes one frame per datagram from a VM started with (the switch's ADDR:PORT is QEMU's remote)
              -netdev dgram,id=n0,local.type=inet,local.host=H,local.port=P,remote.type=inet,remote.host=ADDR,remote.port=PORT
            and sends to remote=H:P (QEMU's local address), or without remote= to the last sender.
            vxlan:REMOTE[:PORT][@NETNS],vni=N[,local=ADDR:PORT] tunnels frames over VXLAN (RFC 7348,
            UDP port 4789 by default) to a Linux vxlan device or another switch; with several
            remotes (vxlan:R1+R2,...) floods go to each and unicast to the one the MAC is behind.
            Append ,vlan=N for an access port or ,trunk=N,N-M[,native=N] for an 802.1Q trunk.

            The switch learns MAC addresses per VLAN (aging, per-port and total limits), floods
            broadcast, multicast and unknown unicast, and blocks a port whose MAC addresses keep
            moving or that floods a broadcast storm (a loop) for --block-time seconds.
            --mirror 0,1=2 copies what ports 0 and 1 send and receive to port 2 (a listener).
            Live per-port counters until Ctrl-C, then a summary; the TAP devices it created are
            removed.

            --gateway CIDR makes the switch answer ARP/NDP and ping for that address; add
            --dhcp START-END to hand out addresses of its subnet by DHCP (router and DNS: the
            gateway unless --dns says otherwise); leases survive restarts in --dhcp-leases FILE.

            While it runs, /run/tuntap/switch-NAME.sock takes 'tuntap switch port add|del|list NAME',
            'tuntap switch mac NAME' and 'tuntap switch stats NAME'.

            Example:
              tuntap switch run sw0 --port tap:sw-a@red --port tap:sw-b@blue --port qemu:unix:/tmp/vm0.sock
              tuntap switch run sw0 --port qemu:unix:/tmp/vm0.sock --gateway 10.0.0.1/24 --dhcp 10.0.0.100-10.0.0.200
            """)
        {
            name, ports, macLimit, tableSize, aging, maxFrame, gateway, gatewayVlan, dhcp, dns, leaseTime, leases, hosts, pcap, interval,
        };
        command.Options.Add(blockTime);
        mirroring.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var switchName = parse.GetRequiredValue(name);
            SwitchControlServer.ValidateName(switchName);
            var specs = parse.GetRequiredValue(ports);
            if (parse.GetValue(macLimit) < 1 || parse.GetValue(tableSize) < 1)
            {
                throw new TunTapException("--mac-limit and --mac-table-size must be at least 1", "they bound the memory the MAC table may use");
            }

            if (parse.GetValue(aging) <= 0)
            {
                throw new TunTapException($"--aging {parse.GetValue(aging).ToString(CultureInfo.InvariantCulture)} must be more than 0 seconds", "300 is the IEEE 802.1D default");
            }

            if (parse.GetValue(gatewayVlan) is < PortVlan.MinVlanId or > PortVlan.MaxVlanId)
            {
                throw new TunTapException($"--gateway-vlan {parse.GetValue(gatewayVlan)} is not a VLAN id", $"allowed: {PortVlan.MinVlanId}-{PortVlan.MaxVlanId}");
            }

            if (parse.GetValue(maxFrame) is < 64 or > 65535)
            {
                throw new TunTapException($"--max-frame {parse.GetValue(maxFrame)} is out of range; allowed: 64-65535", "1518 fits an MTU of 1500 with a VLAN tag");
            }

            if (parse.GetValue(blockTime) is < 0 or > 86_400 or double.NaN)
            {
                throw new TunTapException($"--block-time {parse.GetValue(blockTime).ToString(CultureInfo.InvariantCulture)} is out of range; allowed: 0-86400 seconds", "0 keeps a blocked port blocked for as long as the switch runs");
            }

            var hasGateway = parse.GetValue(gateway) is { Length: > 0 };
            var mirrors = SwitchMirrorOptions.ResolveMirrors(parse.GetValue(mirroring.Mirror), specs, hasGateway);
            var capturePorts = SwitchMirrorOptions.ResolveCapturePorts(parse.GetValue(mirroring.PcapPorts), parse.GetValue(pcap) is not null, specs, hasGateway);
            void Log(string line) => Console.Error.WriteLine($"switch {switchName}: {line}");
            var dhcpServer = CreateDhcpServer(parse, switchName, parse.GetValue(gateway) ?? [], dhcp, dns, leaseTime, leases, hosts, Log);
            var options = new SwitchOptions
            {
                MaxPorts = Math.Max(64, specs.Length),
                DefaultPortMacLimit = parse.GetValue(macLimit),
                MacTableCapacity = parse.GetValue(tableSize),
                MacAgingTime = TimeSpan.FromSeconds(parse.GetValue(aging)),
                MaxFrameSize = parse.GetValue(maxFrame),
                BlockTime = TimeSpan.FromSeconds(parse.GetValue(blockTime)),
                Log = Log,
            };

            using var shutdown = new ShutdownSignal(cancellationToken);
            var pcapFile = parse.GetValue(pcap);
            await using var capture = pcapFile is null ? null : CaptureFile.Create(pcapFile.FullName, PcapLinkType.Ethernet);
            var runner = new SwitchRunner(new LearningSwitch(options), new SwitchRunnerOptions { Log = Log }, capture?.Writer);
            var sets = new SwitchCounterSets(runner);
            runner.SetCapturePorts(capturePorts as IReadOnlyCollection<int>);
            await using (runner.ConfigureAwait(false))
            {
                // The control socket first: a second switch of the same name fails before creating anything.
                var handler = new SwitchControlHandler(switchName, runner, spec => spec.Open(options.MaxFrameSize, Log), Log);
                var control = SwitchControlServer.Listen(SwitchControlServer.SocketPathFor(switchName), handler, Log);
                await using (control.ConfigureAwait(false))
                {
                    foreach (var spec in specs)
                    {
                        var port = spec.Open(options.MaxFrameSize, Log);
                        runner.AddPort(port, spec.ToConfig(port.Name));
                    }

                    if (parse.GetValue(gateway) is { Length: > 0 } gateways)
                    {
                        var gatewayPort = new GatewayPort(gateways, GatewayPort.MacFor(switchName), options.MaxFrameSize) { Dhcp = dhcpServer };
                        runner.AddPort(gatewayPort, new SwitchPortConfig { Name = gatewayPort.Name, Vlan = PortVlan.Access((ushort)parse.GetValue(gatewayVlan)) });
                        Console.Out.WriteLine($"switch {switchName}: gateway {string.Join(", ", gateways)} at {gatewayPort.Mac} in VLAN {parse.GetValue(gatewayVlan)}");
                        if (dhcpServer is { Options: var served })
                        {
                            Console.Out.WriteLine($"switch {switchName}: DHCP {served.Range} on {served.Gateway}, lease {served.LeaseTime}, leases in {served.LeaseFile}");
                        }
                    }

                    foreach (var (sources, destination) in mirrors)
                    {
                        runner.AddMirror(sources, destination);
                        Console.Out.WriteLine($"switch {switchName}: mirroring {string.Join(", ", sources.Select(s => runner.Switch.GetPortConfig(s).Name))} to {runner.Switch.GetPortConfig(destination).Name}");
                    }

                    Console.Out.WriteLine($"switch {switchName}: running with {specs.Length} port{(specs.Length == 1 ? "" : "s")}: {string.Join(", ", runner.ListPorts().Select(p => $"{p.Name} ({p.Vlan})"))}; control socket {control.Path}; Ctrl-C stops");
                    var work = Task.Delay(Timeout.Infinite, shutdown.Token).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
                    await LiveCounters.RunAsync(sets, work, TimeSpan.FromSeconds(parse.GetValue(interval)), shutdown.Token).ConfigureAwait(false);
                }

                sets.Freeze();
            }

            // The runner has stopped every port: the counters are final.
            Console.Out.WriteLine($"summary: {LiveCounters.Line(sets)}");
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"macs: {runner.Switch.MacTable.Count} learned"));
            if (pcapFile is not null)
            {
                Console.Out.WriteLine($"capture: {pcapFile.FullName}");
            }

            foreach (var info in sets.Ports)
            {
                if (info.Port is TapPort { Created: true } tap)
                {
                    Console.Out.WriteLine($"{tap.Name}: removed");
                }
            }

            return 0;
        });
        return command;
    }

    private static DhcpServer? CreateDhcpServer(
        ParseResult parse,
        string switchName,
        InterfaceAddress[] gateways,
        Option<DhcpRange?> dhcp,
        Option<System.Net.IPAddress[]> dns,
        Option<TimeSpan?> leaseTime,
        Option<string?> leases,
        Option<DhcpReservation[]> hosts,
        Action<string> log)
    {
        if (parse.GetValue(dhcp) is not { } range)
        {
            if (parse.GetResult(dns) is not null || parse.GetResult(leaseTime) is not null || parse.GetResult(leases) is not null || parse.GetResult(hosts) is not null)
            {
                throw new TunTapException("--dns, --lease-time, --dhcp-leases and --dhcp-host configure the DHCP server", "add --dhcp START-END to serve DHCP");
            }

            return null;
        }

        var gateway = Array.Find(gateways, g => g.IsIPv4);
        if (gateway == default)
        {
            throw new TunTapException("--dhcp needs an IPv4 --gateway: the server answers from its address and hands out its subnet", "add --gateway 10.0.0.1/24 (the range must lie in that subnet)");
        }

        return new DhcpServer(new DhcpServerOptions
        {
            Gateway = gateway,
            ServerMac = GatewayPort.MacFor(switchName),
            Range = range,
            DnsServers = parse.GetValue(dns) ?? [],
            LeaseTime = parse.GetValue(leaseTime) ?? TimeSpan.FromHours(1),
            Reservations = parse.GetValue(hosts) ?? [],
            LeaseFile = parse.GetValue(leases) is { Length: > 0 } file ? Path.GetFullPath(file) : DhcpServerOptions.DefaultLeaseFile(switchName),
            Log = log,
        });
    }
}
