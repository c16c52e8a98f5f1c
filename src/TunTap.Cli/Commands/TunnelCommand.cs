using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using TunTap.Cli.Rendering;
using TunTap.Devices;
using TunTap.Services;
using TunTap.Tunnel;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap tunnel NAME --mode tun|tap (--listen [ADDR:]PORT | --connect HOST:PORT) ...</c></summary>
internal static class TunnelCommand
{
    /// <summary>1500 - 20 (IPv4) - 8 (UDP) - 4 (frame header): no fragments on a 1500-byte IPv4 underlay.</summary>
    private const int DefaultUdpTunMtu = 1468;

    /// <summary>The same, less the 14-byte Ethernet header a TAP frame carries.</summary>
    private const int DefaultUdpTapMtu = 1454;

    private const string ListenForm = "PORT, ADDR:PORT or [IPV6]:PORT (e.g. 5555, 10.0.0.1:5555, [::]:5555)";
    private const string ConnectForm = "HOST:PORT or [IPV6]:PORT (e.g. 10.0.0.1:5555, server.example:5555, [fd00::1]:5555)";

    public static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "Device to create (or attach to, if a persistent one exists)." };
        var mode = CommonOptions.Mode();
        var listen = new Option<IPEndPoint?>("--listen", "-l")
        {
            Description = $"Be the server: listen on {ListenForm}. A bare port listens on every IPv4 address.",
            HelpName = "[ADDR:]PORT",
            CustomParser = result => ParseListen(result.Tokens.Count == 0 ? "" : result.Tokens[0].Value, result),
        };
        var connect = new Option<DnsEndPoint?>("--connect", "-c")
        {
            Description = $"Be the client: connect to {ConnectForm}; reconnects with backoff when the link drops.",
            HelpName = "HOST:PORT",
            CustomParser = result => ParseConnect(result.Tokens.Count == 0 ? "" : result.Tokens[0].Value, result),
        };
        var transport = new Option<TunnelTransport>("--transport", "-t")
        {
            // No DefaultValueFactory: help would print the enum name ("Tcp"); absent means default(TunnelTransport), tcp.
            Description = "tcp: one connection, length-prefixed frames; udp: one datagram per packet. [default: tcp]",
            HelpName = "tcp|udp",
            CustomParser = result => ParseTransport(result.Tokens.Count == 0 ? "" : result.Tokens[0].Value, result),
        };
        var addresses = CommonOptions.Addresses("Kernel-side address of the device in CIDR notation (repeat for more, IPv4 and IPv6).");
        var mtu = CommonOptions.Mtu();
        var noOffload = new Option<bool>("--no-offload")
        {
            Description = "Open the device without virtio-net header and TCP segmentation offload: every packet is read and written at the MTU (slower; for comparison or old kernels).",
        };
        var compress = new Option<bool>("--compress") { Description = "Compress each packet (Brotli); both ends must say so. Packets that do not shrink go as they are." };
        var congestion = new Option<string>("--congestion-control")
        {
            Description = $"Congestion control of the TCP connection: a name from /proc/sys/net/ipv4/tcp_available_congestion_control, or 'system' for the kernel's default. The flows inside pace themselves; a pacing algorithm outside (bbr) only slows them. [default: {TunnelOptions.DefaultCongestionControl}]",
            HelpName = "NAME",
        };
        var pcap = CommonOptions.Pcap();
        var netns = CommonOptions.Netns();
        var interval = new Option<double>("--stats-interval") { Description = "When output is not a terminal, print the counters every this many seconds (0: only at exit).", DefaultValueFactory = _ => 1.0, HelpName = "SECONDS" };

        var command = new Command("tunnel", """
            Join this host's TUN/TAP device to another host's through a TCP connection or UDP socket.

            The device is opened with TCP segmentation offload: the kernel hands over super packets of
            up to 64 KiB, which travel whole over TCP (when both ends have offloads) and are cut into
            MTU-sized datagrams (sent with UDP GSO) over UDP. Over UDP the default MTU is 1468 (tun)
            or 1454 (tap), so that a datagram (MTU + 4-byte frame header + 28 bytes IPv4/UDP, + 14
            Ethernet for tap) fits a 1500-byte IPv4 underlay without fragmenting; over IPv6 give
            20 bytes less (--mtu 1448 / 1434) on both ends.

            One end listens, the other connects; both exchange a hello first and refuse to run if mode,
            MTU or compression differ (both exit 1, naming both values). The server takes a new client
            after a disconnect; the client reconnects with exponential backoff. Packets read while the
            link is down are dropped and counted. Live counters until Ctrl-C, then a summary, and the
            device is removed.

            Counters: tx-packets/tx-bytes were read from the device and sent (a super packet counts
            once), rx-packets/rx-bytes received from the peer and written (over UDP each segment
            counts); the wire bytes include frame headers (and compression); tx-/rx-offload-packets
            are the super packets read and written, segmented-packets those cut here; dropped, then
            dropped-REASON for each reason seen (link-down, malformed, oversize, unknown-peer, ...).

            Example:
              hostA$ tuntap tunnel tun0 --mode tun --listen 5555 --address 10.9.0.1/24
              hostB$ tuntap tunnel tun0 --mode tun --connect hostA:5555 --address 10.9.0.2/24
              hostB$ ping 10.9.0.1
            """)
        {
            name, mode, listen, connect, transport, addresses, mtu, compress, noOffload, congestion, pcap, netns, interval,
        };
        command.Validators.Add(result =>
        {
            var hasListen = result.GetResult(listen) is not null;
            var hasConnect = result.GetResult(connect) is not null;
            if (hasListen == hasConnect)
            {
                result.AddError("tunnel: give exactly one of --listen [ADDR:]PORT (server) or --connect HOST:PORT (client)");
            }
        });

        command.SetAction(async (parse, cancellationToken) =>
        {
            var deviceMode = parse.GetValue(mode);
            var offload = !parse.GetValue(noOffload);
            var transportValue = parse.GetValue(transport);
            var spec = new DeviceProvisioning
            {
                Device = new TunDeviceOptions
                {
                    Name = parse.GetRequiredValue(name),
                    Mode = deviceMode,
                    VnetHeader = offload,
                    Offloads = offload ? TunnelOptions.DeviceOffloads : TunOffloads.None,
                },
                Netns = parse.GetValue(netns),
                Addresses = parse.GetValue(addresses) ?? [],
                Mtu = parse.GetValue(mtu) ?? (transportValue == TunnelTransport.Udp ? (deviceMode == DeviceMode.Tap ? DefaultUdpTapMtu : DefaultUdpTunMtu) : null),
            };
            var options = new TunnelOptions
            {
                Mode = deviceMode,
                Mtu = spec.Mtu ?? 1500,
                VnetHeader = offload,
                Transport = transportValue,
                Listen = parse.GetValue(listen),
                Connect = parse.GetValue(connect),
                Compress = parse.GetValue(compress),
                CongestionControl = parse.GetValue(congestion) switch
                {
                    null => TunnelOptions.DefaultCongestionControl,
                    "system" => null,
                    var named => named,
                },
                Netns = spec.Netns,
                Seed = RandomNumberGenerator.GetInt32(int.MaxValue),
            };
            options.Validate();
            spec = spec with { GsoMaxSegments = options.DeviceGsoMaxSegments };

            using var shutdown = new ShutdownSignal(cancellationToken);
            var pcapFile = parse.GetValue(pcap);
            await using var capture = pcapFile is null ? null : ResponderCommand.OpenCapture(pcapFile, deviceMode);
            await using var device = ProvisionedDevice.Create(spec);
            var tunnel = new TunnelEndpoint(device.Device, options, log: line => Console.Out.WriteLine($"tunnel: {line}"), capture: capture?.Writer);

            var role = options.Listen is not null ? $"listening on {options.Listen}" : $"connecting to {options.Connect!.Host}:{options.Connect.Port}";
            Console.Out.WriteLine($"tunnel: {device.Device.Name} ({(deviceMode == DeviceMode.Tap ? "tap" : "tun")}, MTU {options.Mtu}{(options.Compress ? ", compressed" : "")}{(offload ? ", offloads" : "")}) {role} over {(options.Transport == TunnelTransport.Udp ? "udp" : "tcp")}; Ctrl-C stops");
            var counters = new CounterSet(device.Device.Name, rows => ReadCounters(tunnel.Counters, rows));
            var work = tunnel.RunAsync(shutdown.Token);
            await LiveCounters.RunAsync([counters], work, TimeSpan.FromSeconds(parse.GetValue(interval)), shutdown.Token).ConfigureAwait(false);

            RunSummary.Print([counters], pcapFile, device);
            return 0;
        });
        return command;
    }

    internal static void ReadCounters(TunnelCounters counters, List<(string, long)> rows)
    {
        rows.Add(("tx-packets", counters.TxPackets));
        rows.Add(("tx-bytes", counters.TxBytes));
        rows.Add(("rx-packets", counters.RxPackets));
        rows.Add(("rx-bytes", counters.RxBytes));
        rows.Add(("tx-wire-bytes", counters.TxWireBytes));
        rows.Add(("rx-wire-bytes", counters.RxWireBytes));
        rows.Add(("tx-offload-packets", counters.TxOffloadPackets));
        rows.Add(("rx-offload-packets", counters.RxOffloadPackets));
        rows.Add(("segmented-packets", counters.SegmentedPackets));
        rows.Add(("connected", counters.IsConnected ? 1 : 0));
        rows.Add(("reconnects", counters.Reconnects));
        rows.Add(("dropped", counters.Dropped));
        DropReasonNames.AddRows<TunnelDropReason>(rows, "dropped", counters.GetDropped);
    }

    /// <summary><c>PORT</c>, <c>ADDR:PORT</c> or <c>[IPV6]:PORT</c>.</summary>
    internal static IPEndPoint? ParseListen(string text, ArgumentResult result)
    {
        if (TryParsePort(text, out var port))
        {
            return new IPEndPoint(IPAddress.Any, port);
        }

        if (SplitHostPort(text, out var host, out port) && IPAddress.TryParse(host, out var address))
        {
            return new IPEndPoint(address, port);
        }

        result.AddError($"--listen: '{text}' is not a listen address; allowed: {ListenForm}");
        return null;
    }

    /// <summary><c>HOST:PORT</c> or <c>[IPV6]:PORT</c>.</summary>
    internal static DnsEndPoint? ParseConnect(string text, ArgumentResult result)
    {
        if (SplitHostPort(text, out var host, out var port) && port > 0 && host.Length > 0)
        {
            return new DnsEndPoint(host, port);
        }

        result.AddError($"--connect: '{text}' is not a server address; allowed: {ConnectForm}");
        return null;
    }

    private static TunnelTransport ParseTransport(string text, ArgumentResult result)
    {
        switch (text.ToLowerInvariant())
        {
            case "tcp":
                return TunnelTransport.Tcp;
            case "udp":
                return TunnelTransport.Udp;
            default:
                result.AddError($"--transport: '{text}' is not a transport; allowed: tcp, udp");
                return TunnelTransport.Tcp;
        }
    }

    private static bool SplitHostPort(string text, out string host, out int port)
    {
        host = "";
        port = 0;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
            {
                return false;
            }

            host = text[1..close];
            return IPAddress.TryParse(host, out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && TryParsePort(text[(close + 2)..], out port);
        }

        var colon = text.LastIndexOf(':');
        if (colon <= 0 || text.IndexOf(':', StringComparison.Ordinal) != colon)
        {
            // None, or several: an IPv6 address must be written in brackets.
            return false;
        }

        host = text[..colon];
        return TryParsePort(text[(colon + 1)..], out port);
    }

    private static bool TryParsePort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 0 and <= 65535;
}
