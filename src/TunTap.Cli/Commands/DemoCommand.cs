using System.CommandLine;
using System.Net;
using System.Security.Cryptography;
using Spectre.Console;
using TunTap.Cli.Rendering;
using TunTap.Devices;
using TunTap.Netlink;
using TunTap.Services;
using TunTap.Tunnel;
using TunTap.WireGuard;

namespace TunTap.Cli.Commands;

/// <summary>
/// <c>tuntap demo</c>: TunTap end to end, inside two network namespaces it creates and always
/// removes (also on Ctrl-C). Part 1 answers pings on a TUN and a TAP device from user space; part 2
/// joins two hosts' TUN devices through <c>tuntap tunnel</c> over a veth and runs ping and iperf3
/// through it with live counters.
/// </summary>
internal static class DemoCommand
{
    private const string UnderlayA = "192.168.77.1";
    private const string UnderlayB = "192.168.77.2";
    private const string TunnelA = "10.66.0.1";
    private const string TunnelB = "10.66.0.2";
    private const int TunnelPort = 5555;
    private const string WireGuardA = "10.67.0.1";
    private const string WireGuardB = "10.67.0.2";
    private const int WireGuardPortA = 51820;
    private const int WireGuardPortB = 51821;

    public static Command Create()
    {
        var seconds = new Option<int>("--iperf-seconds") { Description = "How long the iperf3 run through the tunnel lasts (1-60; 0 skips it).", DefaultValueFactory = _ => 3, HelpName = "N" };
        seconds.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 0 or > 60)
            {
                result.AddError($"--iperf-seconds: {result.GetValueOrDefault<int>()} is out of range; allowed: 0-60");
            }
        });
        var command = new Command("demo", """
            Show TunTap end to end: a user-space responder and a tunnel, in namespaces of its own.

            Everything happens inside two network namespaces the demo creates and always removes
            (tt-demo-a-XXXXXX and tt-demo-b-XXXXXX, joined by a veth: 192.168.77.1 <-> 192.168.77.2).

            Part 1, the TUN/TAP primitive: in host A, a TUN device (10.77.0.1/24, fd77::1/64) and a TAP
            device (10.78.0.1/24, fd78::1/64) whose other side is tuntap's user-space responder; the
            kernel pings 10.77.0.2, fd77::2, 10.78.0.2 and fd78::2 and every reply (ARP and neighbor
            discovery too) comes from this program.

            Part 2, a tunnel: 'tuntap tunnel' joins a TUN device in host A (10.66.0.1) and one in host B
            (10.66.0.2) through a TCP connection over the veth; B pings A through it and runs a short
            iperf3, with the tunnel's live counters. Needs ping and iperf3 (scripts/demo.sh installs them).
            """)
        {
            seconds,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var shutdown = new ShutdownSignal(cancellationToken);
            var suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
            var hostA = $"tt-demo-a-{suffix}";
            var hostB = $"tt-demo-b-{suffix}";
            await using var tools = new NamespaceProcesses();
            AnsiConsole.MarkupLine($"[bold]setup:[/] network namespaces [blue]{hostA}[/] and [blue]{hostB}[/], veth {UnderlayA} <-> {UnderlayB}");
            NetworkNamespace.Create(hostA);
            try
            {
                NetworkNamespace.Create(hostB);
                try
                {
                    ConnectHosts(hostA, hostB);
                    var failures = await ResponderPartAsync(hostA, tools, shutdown.Token).ConfigureAwait(false);
                    failures += await TunnelPartAsync(hostA, hostB, parse.GetValue(seconds), tools, shutdown.Token).ConfigureAwait(false);
                    failures += await WireGuardPartAsync(hostA, hostB, tools, shutdown.Token).ConfigureAwait(false);
                    if (shutdown.Token.IsCancellationRequested)
                    {
                        AnsiConsole.MarkupLine("[yellow]interrupted[/]");
                        return 130;
                    }

                    if (failures > 0)
                    {
                        AnsiConsole.MarkupLine($"[red]{failures} step(s) failed[/]");
                        return 1;
                    }

                    return 0;
                }
                finally
                {
                    await tools.DisposeAsync().ConfigureAwait(false);
                    NetworkNamespace.Delete(hostB);
                }
            }
            finally
            {
                NetworkNamespace.Delete(hostA);
                AnsiConsole.MarkupLine($"[bold]done:[/] namespaces {hostA} and {hostB} and their devices removed");
            }
        });
        return command;
    }

    private static void ConnectHosts(string hostA, string hostB)
    {
        NetworkNamespace.Run(hostA, () =>
        {
            using var netlink = RtNetlinkClient.Open();
            netlink.SetUp("lo", true);
            netlink.CreateVethPair("tt-u0", "tt-u1", hostB);
            netlink.AddAddress("tt-u0", InterfaceAddress.Parse($"{UnderlayA}/24"));
            netlink.SetUp("tt-u0", true);
        });
        NetworkNamespace.Run(hostB, () =>
        {
            using var netlink = RtNetlinkClient.Open();
            netlink.SetUp("lo", true);
            netlink.AddAddress("tt-u1", InterfaceAddress.Parse($"{UnderlayB}/24"));
            netlink.SetUp("tt-u1", true);
        });
    }

    private static async Task<int> ResponderPartAsync(string host, NamespaceProcesses tools, CancellationToken cancellationToken)
    {
        var tunAddresses = new[] { InterfaceAddress.Parse("10.77.0.1/24"), InterfaceAddress.Parse("fd77::1/64") };
        var tapAddresses = new[] { InterfaceAddress.Parse("10.78.0.1/24"), InterfaceAddress.Parse("fd78::1/64") };
        AnsiConsole.MarkupLine("[bold]part 1:[/] [green]tt-tun0[/] (tun, 10.77.0.1/24, fd77::1/64) and [green]tt-tap0[/] (tap, 10.78.0.1/24, fd78::1/64) in host A, answered by tuntap's responder");
        await using var tun = ProvisionedDevice.Create(new DeviceProvisioning
        {
            Device = new TunDeviceOptions { Name = "tt-tun0", Mode = DeviceMode.Tun },
            Netns = host,
            Addresses = tunAddresses,
        });
        await using var tap = ProvisionedDevice.Create(new DeviceProvisioning
        {
            Device = new TunDeviceOptions { Name = "tt-tap0", Mode = DeviceMode.Tap },
            Netns = host,
            Addresses = tapAddresses,
        });
        var tunResponder = new PacketResponder(DeviceMode.Tun, tunAddresses, ResponderCommand.RandomLocalMac());
        var tapResponder = new PacketResponder(DeviceMode.Tap, tapAddresses, ResponderCommand.RandomLocalMac());
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var loops = Task.WhenAll(
            new ResponderLoop(tun.Device, tunResponder).RunAsync(2048, stop.Token),
            new ResponderLoop(tap.Device, tapResponder).RunAsync(2048, stop.Token));

        var failures = 0;
        foreach (var target in new[] { "10.77.0.2", "fd77::2", "10.78.0.2", "fd78::2" })
        {
            if (cancellationToken.IsCancellationRequested)
            {
                break;
            }

            if (await tools.RunAsync(host, "ping", ["-c", "3", "-i", "0.2", "-W", "2", target], cancellationToken).ConfigureAwait(false) != 0)
            {
                failures++;
            }
        }

        await stop.CancelAsync().ConfigureAwait(false);
        await loops.ConfigureAwait(false);
        AnsiConsole.WriteLine("    " + LiveCounters.Line([new CounterSet("tt-tun0", rows => ResponderCommand.ReadCounters(tunResponder.Counters, rows))]));
        AnsiConsole.WriteLine("    " + LiveCounters.Line([new CounterSet("tt-tap0", rows => ResponderCommand.ReadCounters(tapResponder.Counters, rows))]));
        return failures;
    }

    private static async Task<int> TunnelPartAsync(string hostA, string hostB, int iperfSeconds, NamespaceProcesses tools, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }

        AnsiConsole.MarkupLine($"[bold]part 2:[/] tuntap tunnel (tun, tcp): host A [green]tt-tun1[/] {TunnelA}/24 listens on {UnderlayA}:{TunnelPort}, host B [green]tt-tun1[/] {TunnelB}/24 connects");
        await using var server = ProvisionedDevice.Create(TunnelDevice(hostA, TunnelA));
        await using var client = ProvisionedDevice.Create(TunnelDevice(hostB, TunnelB));
        var serverTunnel = new TunnelEndpoint(server.Device, new TunnelOptions { Listen = new IPEndPoint(IPAddress.Parse(UnderlayA), TunnelPort), Netns = hostA, VnetHeader = true }, log: line => AnsiConsole.WriteLine($"    A: {line}"));
        var clientTunnel = new TunnelEndpoint(client.Device, new TunnelOptions { Connect = new DnsEndPoint(UnderlayA, TunnelPort), Netns = hostB, VnetHeader = true, Seed = RandomNumberGenerator.GetInt32(int.MaxValue) }, log: line => AnsiConsole.WriteLine($"    B: {line}"));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var serverRun = serverTunnel.RunAsync(stop.Token);
        await serverTunnel.Listening.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        var clientRun = clientTunnel.RunAsync(stop.Token);
        var counters = new[]
        {
            new CounterSet("A tt-tun1", rows => TunnelCommand.ReadCounters(serverTunnel.Counters, rows)),
            new CounterSet("B tt-tun1", rows => TunnelCommand.ReadCounters(clientTunnel.Counters, rows)),
        };

        var failures = 0;
        try
        {
            // Packets sent before the client has connected would be dropped (and counted) as LinkDown.
            for (var waited = 0; !(clientTunnel.Counters.IsConnected && serverTunnel.Counters.IsConnected) && waited < 100; waited++)
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }

            if (await tools.RunAsync(hostB, "ping", ["-c", "3", "-i", "0.2", "-W", "2", TunnelA], cancellationToken).ConfigureAwait(false) != 0)
            {
                failures++;
            }

            if (iperfSeconds > 0 && !cancellationToken.IsCancellationRequested)
            {
                failures += await IperfAsync(hostA, hostB, iperfSeconds, counters, tools, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(serverRun, clientRun).ConfigureAwait(false);
        }

        foreach (var set in counters)
        {
            AnsiConsole.WriteLine("    " + LiveCounters.Line([set]));
        }

        return failures;
    }

    private static async Task<int> IperfAsync(string hostA, string hostB, int seconds, CounterSet[] counters, NamespaceProcesses tools, CancellationToken cancellationToken)
    {
        AnsiConsole.MarkupLine($"    [grey]$ iperf3 -c {TunnelA} -t {seconds}   (server in host A; live tunnel counters below)[/]");
        var server = await tools.StartReadyAsync(hostA, "iperf3", ["-s", "-1", "--forceflush", "-B", TunnelA], "Server listening", TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        var output = new List<string>();
        var run = tools.RunCapturedAsync(hostB, "iperf3", ["-c", TunnelA, "-t", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "-f", "g"], output, cancellationToken);
        await LiveCounters.RunAsync(counters, run, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        var exitCode = await run.ConfigureAwait(false);
        foreach (var line in output)
        {
            if (line.Contains("sender", StringComparison.Ordinal) || line.Contains("receiver", StringComparison.Ordinal) || line.Contains("error", StringComparison.OrdinalIgnoreCase))
            {
                AnsiConsole.WriteLine("    " + line.Trim());
            }
        }

        await NamespaceProcesses.StopAsync(server).ConfigureAwait(false);
        return exitCode == 0 ? 0 : 1;
    }

    private static async Task<int> WireGuardPartAsync(string hostA, string hostB, NamespaceProcesses tools, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }

        var keyA = WireGuardKey.GeneratePrivateKey();
        var keyB = WireGuardKey.GeneratePrivateKey();
        AnsiConsole.MarkupLine($"[bold]part 3:[/] WireGuard: host A [green]tt-wg0[/] {WireGuardA}/24 (UDP {UnderlayA}:{WireGuardPortA}) <-> host B [green]tt-wg0[/] {WireGuardB}/24 (UDP {UnderlayB}:{WireGuardPortB})");
        AnsiConsole.WriteLine($"    A public key {keyA.DerivePublicKey().ToBase64()}, B public key {keyB.DerivePublicKey().ToBase64()}");
        await using var a = await StartWireGuardAsync(hostA, WireGuardA, WireGuardPortA, keyA, keyB, UnderlayB, WireGuardPortB, WireGuardB).ConfigureAwait(false);
        await using var b = await StartWireGuardAsync(hostB, WireGuardB, WireGuardPortB, keyB, keyA, UnderlayA, WireGuardPortA, WireGuardA).ConfigureAwait(false);

        // Up to 5 s per echo: the first one waits for the handshake.
        var failures = await tools.RunAsync(hostB, "ping", ["-c", "3", "-i", "0.2", "-W", "5", WireGuardA], cancellationToken).ConfigureAwait(false) != 0 ? 1 : 0;
        AnsiConsole.WriteLine("    " + LiveCounters.Line([new CounterSet("A tt-wg0", rows => WgInterfaceCommand.ReadCounters(a.Device, rows))]));
        AnsiConsole.WriteLine("    " + LiveCounters.Line([new CounterSet("B tt-wg0", rows => WgInterfaceCommand.ReadCounters(b.Device, rows))]));
        return failures;
    }

    // A TUN device with its address, a UDP socket in the host's namespace and a started WireGuard
    // device with one peer; disposing stops the device and removes the TUN device.
    private static async Task<DemoWireGuardHost> StartWireGuardAsync(string host, string address, int port, WireGuardKey key, WireGuardKey peer, string peerUnderlay, int peerPort, string peerAddress)
    {
        var tun = ProvisionedDevice.Create(new DeviceProvisioning
        {
            Device = new TunDeviceOptions { Name = "tt-wg0", Mode = DeviceMode.Tun },
            Netns = host,
            Mtu = 1420,
            Addresses = [InterfaceAddress.Parse($"{address}/24")],
        });
        try
        {
            var udp = NetworkNamespace.Run(host, () => UdpSocketTransport.Bind(new IPEndPoint(IPAddress.Any, port)));
            var device = new WireGuardDevice(tun.Device, udp, new WireGuardDeviceOptions { PrivateKey = key });
            device.AddPeer(new WireGuardPeerOptions
            {
                PublicKey = peer.DerivePublicKey(),
                Endpoint = new IPEndPoint(IPAddress.Parse(peerUnderlay), peerPort),
                AllowedIps = [IPNetwork.Parse($"{peerAddress}/32")],
            });
            device.Start();
            return new DemoWireGuardHost(tun, udp, device);
        }
        catch
        {
            await tun.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static DeviceProvisioning TunnelDevice(string host, string address) => new()
    {
        // With the virtio-net header and TSO the kernel hands the tunnel 64 KiB super packets.
        Device = new TunDeviceOptions { Name = "tt-tun1", Mode = DeviceMode.Tun, VnetHeader = true, Offloads = TunnelOptions.DeviceOffloads },
        Netns = host,
        Addresses = [InterfaceAddress.Parse($"{address}/24")],
    };
}
