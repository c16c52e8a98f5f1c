using System.CommandLine;
using System.Security.Cryptography;
using TunTap.Capture;
using TunTap.Cli.Rendering;
using TunTap.Emulation;
using TunTap.Emulation.Logging;
using TunTap.Emulation.Topology;
using TunTap.Netlink;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap emulate link --a NS --b NS [model options]</c></summary>
internal static class EmulateLinkCommand
{
    private static readonly InterfaceAddress DefaultA = InterfaceAddress.Parse("10.200.0.1/24");
    private static readonly InterfaceAddress DefaultB = InterfaceAddress.Parse("10.200.0.2/24");

    public static Command Create()
    {
        var a = new Option<string>("--a") { Description = "Namespace of end A (created if missing, and then removed at exit).", Required = true, HelpName = "NS" };
        var b = new Option<string>("--b") { Description = "Namespace of end B (created if missing, and then removed at exit).", Required = true, HelpName = "NS" };
        var aAddress = AddressOption("--a-address", DefaultA, "Address of end A's TUN device");
        var bAddress = AddressOption("--b-address", DefaultB, "Address of end B's TUN device");
        var device = new Option<string>("--device") { Description = "Name of the TUN device in each namespace.", DefaultValueFactory = _ => "emu0", HelpName = "NAME" };
        var mtu = CommonOptions.Mtu();
        var delay = SpecOption("--delay", "TIME", "One-way delay each direction, e.g. 50ms (units us, ms, s).");
        var jitter = SpecOption("--jitter", "TIME", "Delay variation, e.g. 10ms (uniform ± TIME unless the spec names a distribution).");
        var loss = SpecOption("--loss", "P%", "Random loss probability each direction, e.g. 1% (0-100%).");
        var rate = SpecOption("--rate", "RATE", "Bottleneck rate each direction, e.g. 10mbit (bit kbit mbit gbit; bps kbps mbps gbps are bytes/s).");
        var duplicate = SpecOption("--duplicate", "P%", "Duplication probability (0-100%).");
        var corrupt = SpecOption("--corrupt", "P%", "Probability of flipping one bit (0-100%).");
        var corruptChecksum = new Option<string>("--corrupt-checksum")
        {
            Description = "With --corrupt: 'invalid' flips any bit and leaves checksums as they were (the receiving kernel drops most such packets); 'valid' flips a bit in the TCP/UDP/ICMP payload and recomputes the checksums, so the damage reaches the application (other packets are spared).",
            DefaultValueFactory = _ => "invalid",
            HelpName = "valid|invalid",
        };
        corruptChecksum.AcceptOnlyFromAmong("valid", "invalid");
        var reorder = SpecOption("--reorder", "P%", "netem-style reordering probability (needs --delay).");
        var queue = SpecOption("--queue", "PACKETS", "Bottleneck queue limit in packets (default: one bandwidth-delay product in bytes).");
        var outputLimit = SpecOption("--output-limit", "PACKETS",
            $"Most packets per direction waiting to be written to the far device (default {LinkModelOptions.DefaultOutputLimit}). With no delay, rate or queue configured this is all the emulator holds: a sender faster than the device writes is dropped there (drop cause output-full) instead of growing memory.");
        var spec = SpecOption("--spec", "SPEC", "A netem-like link spec for both directions, applied after the options above (see docs/emulation.md), e.g. \"delay 50ms 10ms distribution normal loss gemodel 1% 30%\".");
        var aToB = SpecOption("--a-to-b", "SPEC", "Extra spec for packets A sends (overrides the shared settings it names).");
        var bToA = SpecOption("--b-to-a", "SPEC", "Extra spec for packets B sends.");
        var seed = new Option<ulong?>("--seed") { Description = "Seed of every random choice (A->B uses it, B->A uses SEED+1): the same seed and the same packets give the same drops. Random when omitted (printed).", HelpName = "N" };
        var pcap = new Option<DirectoryInfo?>("--pcap") { Description = "Write a capture per link end into this directory: a.pcap (what A sent and received) and b.pcap.", HelpName = "DIR" };
        var coarse = new Option<bool>("--coarse-timer") { Description = "Wait in whole milliseconds only (no precise sleep before each departure): departures ~0.5 ms late on average." };
        var log = new Option<FileInfo?>("--log")
        {
            Description = "Write every packet event (arrival, departure, drop with its cause; time in µs from start, direction, packet id and size, queue depth) to FILE: CSV, or JSON lines when FILE ends in .jsonl. 'tuntap plot FILE' draws it. Events the file writer cannot keep up with are counted, not waited for.",
            HelpName = "FILE",
        };
        var noIpv6 = new Option<bool>("--no-ipv6") { Description = "Disable IPv6 on the two TUN devices, so no router solicitations or MLD reports cross the link: with --seed, the same traffic then gets the same random choices." };
        var name = EmulateUpCommand.NameOption("Name this emulation: its link can then be changed live with 'tuntap emulate set --name NAME --delay ...' (control socket /run/tuntap/emulate-NAME.sock).");
        var interval = new Option<double>("--stats-interval") { Description = "When output is not a terminal, print the counters every this many seconds (0: only at exit).", DefaultValueFactory = _ => 1.0, HelpName = "SECONDS" };

        var command = new Command("link", """
            Connect two network namespaces through an emulated link run in user space.

            Each namespace gets a TUN device (default emu0) with an address on one subnet (defaults:
            A 10.200.0.1/24, B 10.200.0.2/24); what one side sends goes through that direction's
            link model (delay, jitter, loss, duplication, corruption, reordering, a rate-limited queue,
            Mahimahi traces) and comes out of the other side's device, so unmodified programs (ping,
            iperf3, curl) see the impairments. Namespaces that do not exist are created, and removed
            again at exit. Live counters per direction (queue depth, drops by cause, throughput) until
            Ctrl-C, then a summary.

            Examples:
              tuntap emulate link --a left --b right --delay 50ms --jitter 5ms --loss 1%
              ip netns exec left ping 10.200.0.2                  # RTT ~100 ms
              tuntap emulate link --a left --b right --rate 10mbit --delay 20ms --seed 7 --pcap /tmp/caps
              tuntap emulate link --a left --b right --spec "delay 30ms" --a-to-b "rate 1mbit" --b-to-a "rate 10mbit"
              tuntap emulate link --a left --b right --spec "trace cellular.up" --b-to-a "trace cellular.down"
            """)
        {
            a, b, aAddress, bAddress, device, mtu, delay, jitter, loss, rate, duplicate, corrupt, corruptChecksum, reorder, queue, outputLimit, spec, aToB, bToA, seed, pcap, log, noIpv6, coarse, interval, name,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var shared = string.Join(' ', SharedSpec(parse, delay, jitter, loss, rate, duplicate, corrupt, reorder, queue, outputLimit), parse.GetValue(spec) ?? "").Trim();
            var specAToB = Combine(shared, parse.GetValue(aToB));
            var specBToA = Combine(shared, parse.GetValue(bToA));
            var optionsAToB = Parse(specAToB, parse.GetValue(aToB) is null ? null : "--a-to-b");
            var optionsBToA = Parse(specBToA, parse.GetValue(bToA) is null ? null : "--b-to-a");
            var seedValue = parse.GetValue(seed) ?? (ulong)RandomNumberGenerator.GetInt32(int.MaxValue);
            var mtuValue = parse.GetValue(mtu) ?? 1500;
            var nsA = parse.GetRequiredValue(a);
            var nsB = parse.GetRequiredValue(b);
            if (nsA == nsB)
            {
                throw new TunTapException($"--a and --b both name '{nsA}'", "the two ends need different namespaces");
            }

            using var shutdown = new ShutdownSignal(cancellationToken);
            var created = new List<string>();
            try
            {
                EnsureNamespace(nsA, created);
                EnsureNamespace(nsB, created);
                var pcapDir = parse.GetValue(pcap);
                pcapDir?.Create();
                await using var captureA = pcapDir is null ? null : CaptureFile.Create(Path.Combine(pcapDir.FullName, "a.pcap"), PcapLinkType.Raw);
                await using var captureB = pcapDir is null ? null : CaptureFile.Create(Path.Combine(pcapDir.FullName, "b.pcap"), PcapLinkType.Raw);
                var withoutIpv6 = parse.GetValue(noIpv6);
                var time = TimeProvider.System;
                var logFile = parse.GetValue(log);
                await using var eventLog = logFile is null ? null : LinkEventLogWriter.Create(logFile.FullName, time.TimestampFrequency, time.GetTimestamp());
                ICorruptionFixup? fixup = parse.GetRequiredValue(corruptChecksum) == "valid" ? new ValidChecksumCorruption() : null;
                var modelAToB = LinkModel.Create(optionsAToB, time, seedValue, fixup);
                var modelBToA = LinkModel.Create(optionsBToA, time, seedValue + 1, fixup);
                modelAToB.EventSink = eventLog?.CreateSink("a->b");
                modelBToA.EventSink = eventLog?.CreateSink("b->a");
                await using var emulated = await NamespaceLink.CreateAsync(
                    new NamespaceLinkEnd(nsA, parse.GetRequiredValue(device), parse.GetRequiredValue(aAddress), Ipv6: !withoutIpv6),
                    new NamespaceLinkEnd(nsB, parse.GetRequiredValue(device), parse.GetRequiredValue(bAddress), Ipv6: !withoutIpv6),
                    modelAToB,
                    modelBToA,
                    new EmulatedLinkOptions
                    {
                        MaxPacketSize = mtuValue,
                        PreciseSleepWindow = parse.GetValue(coarse) ? TimeSpan.Zero : TimeSpan.FromMilliseconds(1),
                        CaptureA = captureA?.Writer,
                        CaptureB = captureB?.Writer,
                    }).ConfigureAwait(false);
                var link = emulated.Link;

                Console.Out.WriteLine($"emulate: {nsA} ({emulated.DeviceA.Device.Name} {parse.GetValue(aAddress)}) <-> {nsB} ({emulated.DeviceB.Device.Name} {parse.GetValue(bAddress)})");
                Console.Out.WriteLine($"emulate: a->b: {Describe(specAToB)}; b->a: {Describe(specBToA)}; seed {seedValue}; Ctrl-C stops");
                CounterSet[] sets = [LinkCounterSets.Full(link.AToB, $"a->b ({nsA} -> {nsB})"), LinkCounterSets.Full(link.BToA, $"b->a ({nsB} -> {nsA})")];
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(shutdown.Token);
                await using var control = parse.GetValue(name) is { } emulation ? ListenForControl(emulation, nsA, nsB, link, specAToB, specBToA, seedValue, stop) : null;
                var work = link.RunAsync(stop.Token);
                await LiveCounters.RunAsync(sets, work, TimeSpan.FromSeconds(parse.GetValue(interval)), stop.Token).ConfigureAwait(false);
                Console.Out.WriteLine($"summary: {LiveCounters.Line(sets)}");
                if (eventLog is not null)
                {
                    await eventLog.DisposeAsync().ConfigureAwait(false);
                    Console.Out.WriteLine($"log: {logFile!.FullName} ({eventLog.RecordedEvents} events, {eventLog.DroppedEvents} dropped)");
                }

                if (pcapDir is not null)
                {
                    Console.Out.WriteLine($"capture: {Path.Combine(pcapDir.FullName, "a.pcap")} {Path.Combine(pcapDir.FullName, "b.pcap")}");
                }
            }
            finally
            {
                foreach (var name in created)
                {
                    NetworkNamespace.Delete(name);
                    Console.Out.WriteLine($"namespace {name}: removed");
                }
            }

            return 0;
        });
        return command;
    }

    private static EmulationControlServer ListenForControl(string emulation, string nsA, string nsB, EmulatedLink link, string specAToB, string specBToA, ulong seed, CancellationTokenSource stop)
    {
        var controlled = new ControlledLink("link", nsA, nsB, link, specAToB, specBToA, seed);
        var server = EmulationControlServer.Listen(EmulationControlServer.SocketPathFor(emulation), new EmulationControlHandler(emulation, [controlled], stop.Cancel), line => Console.Error.WriteLine($"tuntap: {line}"));
        Console.Out.WriteLine($"emulate: control socket {server.Path} ('tuntap emulate set --name {emulation} ...' changes the link)");
        return server;
    }

    private static Option<string?> SpecOption(string name, string helpName, string description) => new(name) { Description = description, HelpName = helpName };

    private static Option<InterfaceAddress> AddressOption(string name, InterfaceAddress defaultValue, string description) => new(name)
    {
        Description = $"{description} in CIDR notation.",
        HelpName = "CIDR",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 0 ? "" : result.Tokens[0].Value;
            if (!InterfaceAddress.TryParse(text, out var address))
            {
                result.AddError($"{name}: '{text}' is not an address in CIDR notation (e.g. 10.200.0.1/24)");
            }

            return address;
        },
    };

    /// <summary>The per-option settings as spec text, each checked alone so an error names its option.</summary>
    private static string SharedSpec(System.CommandLine.ParseResult parse, params Option<string?>[] options)
    {
        var parts = new List<string>();
        var delay = parse.GetValue(options[0]);
        var jitter = parse.GetValue(options[1]);
        if (delay is not null || jitter is not null)
        {
            parts.Add(Checked("--delay", $"delay {delay ?? "0ms"}"));
            if (jitter is not null)
            {
                parts[^1] = Checked("--jitter", $"delay {delay ?? "0ms"} {jitter}");
            }
        }

        string[] keywords = ["", "", "loss", "rate", "duplicate", "corrupt", "reorder", "queue", "output-limit"];
        for (var i = 2; i < options.Length; i++)
        {
            if (parse.GetValue(options[i]) is { } value)
            {
                parts.Add(Checked(options[i].Name, $"{keywords[i]} {value}"));
            }
        }

        return string.Join(' ', parts);
    }

    private static string Checked(string option, string spec)
    {
        Parse(spec, option);
        return spec;
    }

    private static string Combine(string shared, string? extra) => string.Join(' ', shared, extra ?? "").Trim();

    private static LinkModelOptions Parse(string spec, string? option)
    {
        try
        {
            return LinkSpecParser.Parse(spec);
        }
        catch (TunTapException e) when (option is not null && e.Message.StartsWith("link spec: ", StringComparison.Ordinal))
        {
            throw new TunTapException($"{option}: {e.Message["link spec: ".Length..]}", e.Hint, e);
        }
    }

    private static string Describe(string spec) => spec.Length == 0 ? "no impairment" : spec;

    private static void EnsureNamespace(string name, List<string> created)
    {
        if (NetworkNamespace.Exists(name))
        {
            return;
        }

        NetworkNamespace.Create(name);
        created.Add(name);
        Console.Out.WriteLine($"namespace {name}: created");
        NetworkNamespace.Run(name, () =>
        {
            using var netlink = RtNetlinkClient.Open();
            netlink.SetUp("lo", true);
        });
    }
}
