using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using Spectre.Console;
using TunTap.Cli.Rendering;
using TunTap.Devices;
using TunTap.Netlink;
using TunTap.Services;

namespace TunTap.Cli.Commands;

/// <summary>
/// <c>tuntap demo</c>: the TUN/TAP primitive end to end, in a namespace of its own. Creates a TUN
/// and a TAP device, answers pings on them from user space, pings them from the kernel side over
/// IPv4 and IPv6, shows the counters, and removes everything (also on Ctrl-C).
/// </summary>
internal static class DemoCommand
{
    private const int PingCount = 3;

    public static Command Create()
    {
        var keep = new Option<bool>("--keep-going") { Description = "After the pings, keep the responders running (with live counters) until Ctrl-C." };
        var command = new Command("demo", """
            Show TunTap working end to end, safely inside a network namespace it creates and removes.

            1. creates the namespace tt-demo-XXXXXX with a TUN device (10.77.0.1/24, fd77::1/64)
               and a TAP device (10.78.0.1/24, fd78::1/64);
            2. runs tuntap's user-space responder on both;
            3. pings 10.77.0.2, fd77::2, 10.78.0.2 and fd78::2 from the kernel side: every reply
               comes from this program (ARP and neighbor discovery too, on the TAP device);
            4. prints the counters and deletes the namespace.
            """)
        {
            keep,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var shutdown = new ShutdownSignal(cancellationToken);
            var netns = $"tt-demo-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
            AnsiConsole.MarkupLine($"[bold]1.[/] creating network namespace [blue]{netns}[/]");
            NetworkNamespace.Create(netns);
            try
            {
                NetworkNamespace.Run(netns, () =>
                {
                    using var netlink = RtNetlinkClient.Open();
                    netlink.SetUp("lo", true);
                    return 0;
                });
                return await RunInNamespaceAsync(netns, parse.GetValue(keep), shutdown.Token).ConfigureAwait(false);
            }
            finally
            {
                NetworkNamespace.Delete(netns);
                AnsiConsole.MarkupLine($"[bold]done:[/] namespace {netns} and its devices removed");
            }
        });
        return command;
    }

    private static async Task<int> RunInNamespaceAsync(string netns, bool keepGoing, CancellationToken cancellationToken)
    {
        var tunAddresses = new[] { InterfaceAddress.Parse("10.77.0.1/24"), InterfaceAddress.Parse("fd77::1/64") };
        var tapAddresses = new[] { InterfaceAddress.Parse("10.78.0.1/24"), InterfaceAddress.Parse("fd78::1/64") };
        AnsiConsole.MarkupLine("[bold]2.[/] creating [green]tt-tun0[/] (tun, 10.77.0.1/24, fd77::1/64) and [green]tt-tap0[/] (tap, 10.78.0.1/24, fd78::1/64) with responders");
        await using var tun = ProvisionedDevice.Create(new DeviceProvisioning
        {
            Device = new TunDeviceOptions { Name = "tt-tun0", Mode = DeviceMode.Tun },
            Netns = netns,
            Addresses = tunAddresses,
        });
        await using var tap = ProvisionedDevice.Create(new DeviceProvisioning
        {
            Device = new TunDeviceOptions { Name = "tt-tap0", Mode = DeviceMode.Tap },
            Netns = netns,
            Addresses = tapAddresses,
        });
        var tunResponder = new PacketResponder(DeviceMode.Tun, tunAddresses, ResponderCommand.RandomLocalMac());
        var tapResponder = new PacketResponder(DeviceMode.Tap, tapAddresses, ResponderCommand.RandomLocalMac());
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var loops = Task.WhenAll(
            new ResponderLoop(tun.Device, tunResponder).RunAsync(2048, stop.Token),
            new ResponderLoop(tap.Device, tapResponder).RunAsync(2048, stop.Token));
        var counters = new[]
        {
            new CounterSet("tt-tun0", rows => ResponderCommand.ReadCounters(tunResponder.Counters, rows)),
            new CounterSet("tt-tap0", rows => ResponderCommand.ReadCounters(tapResponder.Counters, rows)),
        };

        AnsiConsole.MarkupLine("[bold]3.[/] pinging from the kernel side; tuntap answers in user space");
        var failures = 0;
        foreach (var target in new[] { "10.77.0.2", "fd77::2", "10.78.0.2", "fd78::2" })
        {
            if (cancellationToken.IsCancellationRequested)
            {
                break;
            }

            AnsiConsole.MarkupLine($"    [grey]$ ping -c {PingCount} {target}[/]");
            if (!await PingAsync(netns, target, cancellationToken).ConfigureAwait(false))
            {
                failures++;
            }
        }

        AnsiConsole.MarkupLine("[bold]4.[/] counters");
        if (keepGoing && !cancellationToken.IsCancellationRequested)
        {
            AnsiConsole.MarkupLine("    responders keep running; ping 10.77.0.x / 10.78.0.x inside the namespace (ip netns exec " + netns + " ping ...); Ctrl-C ends");
            await LiveCounters.RunAsync(counters, loops, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await loops.ConfigureAwait(false);
            foreach (var set in counters)
            {
                AnsiConsole.WriteLine("    " + LiveCounters.Line([set]));
            }
        }

        if (failures > 0)
        {
            AnsiConsole.MarkupLine($"[red]{failures} ping run(s) got no reply[/]");
            return 1;
        }

        return 0;
    }

    private static async Task<bool> PingAsync(string netns, string target, CancellationToken cancellationToken)
    {
        // The child inherits the network namespace of the thread that starts it.
        var process = NetworkNamespace.Run(netns, () =>
        {
            var info = new ProcessStartInfo("ping") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { "-c", PingCount.ToString(System.Globalization.CultureInfo.InvariantCulture), "-i", "0.2", "-W", "2", target })
            {
                info.ArgumentList.Add(arg);
            }

            return Process.Start(info) ?? throw new TunTapException("could not start 'ping'", "install it: apt-get install iputils-ping");
        });
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            while (await process.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                AnsiConsole.WriteLine("    " + line);
            }

            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            var errors = await stderr.ConfigureAwait(false);
            if (errors.Length > 0)
            {
                AnsiConsole.WriteLine("    " + errors.Trim());
            }

            return process.ExitCode == 0;
        }
    }
}
