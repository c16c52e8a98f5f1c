using System.CommandLine;
using System.Diagnostics;
using TunTap.Cli.Rendering;
using TunTap.Devices;
using TunTap.Netlink;
using TunTap.Tunnel;
using TunTap.WireGuard;
using TunTap.WireGuard.Uapi;

namespace TunTap.Cli.Commands;

/// <summary>
/// <c>tuntap wg [-f] IFNAME</c>: like <c>wireguard-go IFNAME</c>, creates a TUN device and serves
/// the UAPI socket so <c>wg</c> and <c>wg-quick</c> configure it. Without <c>-f</c> it re-runs
/// itself detached (in a new session, output discarded) and returns once that copy is ready.
/// </summary>
internal static class WgInterfaceCommand
{
    /// <summary>Set in the environment of the detached copy.</summary>
    private const string DaemonMarker = "TUNTAP_WG_DAEMON";
    private const string ReadyLine = "tuntap-wg-ready";

    public static void AddTo(Command wg)
    {
        var name = new Argument<string?>("IFNAME")
        {
            Description = "Interface to create (at most 15 characters). genkey, pubkey and genpsk are commands, not names.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var foreground = new Option<bool>("--foreground", "-f") { Description = "Stay in the foreground and show live counters (otherwise detach, like wireguard-go)." };
        var mtu = CommonOptions.Mtu();
        mtu.Description = "Link MTU in bytes (default 1420, like wireguard-go).";
        var interval = new Option<double>("--stats-interval") { Description = "When output is not a terminal, print the counters every this many seconds (0: only at exit).", DefaultValueFactory = _ => 1.0, HelpName = "SECONDS" };
        var netns = CommonOptions.Netns();
        netns.Description = "Create the interface and its UDP socket in this network namespace (as listed by 'ip netns list'); the UAPI socket stays at /var/run/wireguard/IFNAME.sock, where 'ip netns exec NS wg' finds it.";
        var testRekey = new Option<double?>("--test-rekey-after-seconds")
        {
            Description = "TEST ONLY: keypairs age as if rekey-after-time were this many seconds (every key-age limit scales with it).",
            Hidden = true,
            HelpName = "SECONDS",
        };
        wg.Add(name);
        wg.Add(foreground);
        wg.Add(testRekey);
        wg.Add(mtu);
        wg.Add(interval);
        wg.Add(netns);
        wg.SetAction(async (parse, cancellationToken) =>
        {
            var ifname = parse.GetValue(name);
            if (string.IsNullOrEmpty(ifname))
            {
                throw new TunTapException("name the interface to create, e.g. 'tuntap wg wg0', or use a key command", "see 'tuntap wg --help'");
            }

            if (ifname.Length > 15 || ifname.Contains('/', StringComparison.Ordinal))
            {
                throw new TunTapException($"'{ifname}' is not a valid interface name", "use at most 15 characters and no '/'");
            }

            var mtuValue = parse.GetValue(mtu) ?? 1420;
            var netnsValue = parse.GetValue(netns);
            if (netnsValue is not null)
            {
                // Said here, not by a detached copy.
                NetworkNamespace.RequireExists(netnsValue);
            }

            var daemon = Environment.GetEnvironmentVariable(DaemonMarker) == "1";
            if (!parse.GetValue(foreground) && !daemon)
            {
                return await DetachAsync(cancellationToken).ConfigureAwait(false);
            }

            TimeProvider clock = parse.GetValue(testRekey) is { } rekeyAfter ? new WgTestClock(rekeyAfter) : TimeProvider.System;
            return await RunAsync(ifname, mtuValue, netnsValue, clock, daemon, TimeSpan.FromSeconds(parse.GetValue(interval)), cancellationToken).ConfigureAwait(false);
        });
    }

    private static async Task<int> RunAsync(string ifname, int mtu, string? netns, TimeProvider clock, bool daemon, TimeSpan interval, CancellationToken cancellationToken)
    {
        using var shutdown = new ShutdownSignal(cancellationToken);
        var device = ProvisionedDevice.Create(new DeviceProvisioning
        {
            // Offloads like wireguard-go: TCP super packets in (segmented before encryption), coalesced ones out.
            Device = new TunDeviceOptions { Name = ifname, Mode = DeviceMode.Tun, VnetHeader = true, Offloads = TunnelOptions.DeviceOffloads },
            Netns = netns,
            Mtu = mtu,
            Up = false, // like wireguard-go: addresses and link state are wg-quick's (or the user's) job
        });
        var deleted = false;
        try
        {
            // A socket stays in the namespace it was created in, whichever thread binds it (wg set listen-port).
            var wg = new WireGuardInterface(device.Device, new WireGuardInterfaceOptions
            {
                Mtu = mtu,
                TimeProvider = clock,
                BindTransport = netns is null ? WireGuardInterfaceOptions.BindDualStack : port => NetworkNamespace.Run(netns, () => WireGuardInterfaceOptions.BindDualStack(port)),
            });
            await using (wg.ConfigureAwait(false))
            {
                await wg.StartAsync().ConfigureAwait(false);
                var server = UapiServer.Listen(wg);
                await using (server.ConfigureAwait(false))
                {
                    Console.Out.WriteLine($"wg: {ifname} created (UAPI socket {server.SocketPath}, UDP port {wg.ListenPort}); configure it with 'wg set {ifname} ...' or 'wg setconf {ifname} FILE'");
                    if (daemon)
                    {
                        Console.Out.WriteLine(ReadyLine);
                        Console.Out.Flush();
                        Console.SetOut(TextWriter.Null);
                        Console.SetError(TextWriter.Null);
                    }

                    var work = WatchDeviceAsync(device, () => deleted = true, shutdown.Token);
                    var counters = new CounterSet(ifname, rows => ReadCounters(wg.Device, rows));
                    await LiveCounters.RunAsync([counters], work, daemon ? TimeSpan.Zero : interval, shutdown.Token).ConfigureAwait(false);
                    Console.Out.WriteLine($"summary: {LiveCounters.Line([counters])}");
                }
            }
        }
        finally
        {
            try
            {
                await device.DisposeAsync().ConfigureAwait(false);
            }
            catch (TunTapException) when (deleted)
            {
                // The device went away under us: nothing left to remove.
            }
        }

        Console.Out.WriteLine(deleted ? $"wg: {ifname} was deleted; exiting" : $"wg: {ifname} stopped and removed");
        return 0;
    }

    // Completes when shutdown is requested or the device disappears (ip link del), like wireguard-go's exit on device removal.
    private static async Task WatchDeviceAsync(ProvisionedDevice device, Action onDeleted, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(250, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (device.Netlink.FindLink(device.Device.Name) is null)
            {
                onDeleted();
                return;
            }
        }
    }

    /// <summary>The counters <c>tuntap wg</c> shows (all zero while no private key is set, i.e. no device).</summary>
    internal static void ReadCounters(WireGuardDevice? device, List<(string, long)> rows)
    {
        var peers = device?.GetPeers() ?? [];
        long rx = 0, tx = 0;
        foreach (var peer in peers)
        {
            rx += peer.ReceivedBytes;
            tx += peer.SentBytes;
        }

        rows.Add(("peers", peers.Count));
        rows.Add(("handshakes", device?.Counters.HandshakesCompleted ?? 0));
        rows.Add(("cookie replies sent", device?.Counters.CookieRepliesSent ?? 0));
        rows.Add(("packets sent", device?.Counters.DataPacketsSent ?? 0));
        rows.Add(("packets received", device?.Counters.DataPacketsReceived ?? 0));
        rows.Add(("bytes sent", tx));
        rows.Add(("bytes received", rx));
        rows.Add(("dropped", device?.Counters.Dropped ?? 0));
        rows.Add(("dropped no-route", device?.Counters.DroppedNoRoute ?? 0));
        rows.Add(("dropped replay", device?.Counters.DroppedReplay ?? 0));
        rows.Add(("dropped invalid", device?.Counters.DroppedInvalidMessage ?? 0));
        rows.Add(("dropped source-not-allowed", device?.Counters.DroppedSourceNotAllowed ?? 0));
    }

    // .NET cannot fork: start a copy of this command in a new session with the marker set, wait for
    // its ready line (or its failure), and return. The copy stays with its output discarded.
    private static async Task<int> DetachAsync(CancellationToken cancellationToken)
    {
        var args = Environment.GetCommandLineArgs();
        var info = new ProcessStartInfo("setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        var host = Environment.ProcessPath ?? throw new TunTapException("cannot find the tuntap executable to detach", "run with -f (foreground)");
        info.ArgumentList.Add(host);
        var first = Path.GetFileNameWithoutExtension(host) == "dotnet" ? 0 : 1;
        for (var i = first; i < args.Length; i++)
        {
            info.ArgumentList.Add(args[i]);
        }

        info.Environment[DaemonMarker] = "1";
        using var child = Process.Start(info) ?? throw new TunTapException("could not start the detached tuntap wg", "run with -f (foreground)");
        child.StandardInput.Close();
        var errors = child.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (await child.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false) is { } line)
        {
            if (line == ReadyLine)
            {
                Console.Error.WriteLine($"tuntap: wg running in the background (pid {child.Id}); stop it with 'ip link del' on the interface or kill {child.Id}");
                return 0;
            }

            Console.Out.WriteLine(line);
        }

        await child.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        Console.Error.Write(await errors.ConfigureAwait(false));
        return child.ExitCode == 0 ? ErrorReporter.UserError : child.ExitCode;
    }
}
