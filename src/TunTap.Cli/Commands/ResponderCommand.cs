using System.CommandLine;
using System.Net.NetworkInformation;
using System.Security.Cryptography;
using TunTap.Capture;
using TunTap.Cli.Rendering;
using TunTap.Devices;
using TunTap.Services;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap responder NAME --mode tun|tap --address CIDR...</c></summary>
internal static class ResponderCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "Device to create (or attach to, if a persistent one exists)." };
        var mode = CommonOptions.Mode();
        var addresses = CommonOptions.Addresses("Kernel-side address of the device in CIDR notation (repeat for more, IPv4 and IPv6). The responder answers as every OTHER host of these prefixes.");
        addresses.Required = true;
        var pcap = CommonOptions.Pcap();
        var netns = CommonOptions.Netns();
        var mtu = CommonOptions.Mtu();
        var interval = new Option<double>("--stats-interval") { Description = "When output is not a terminal, print the counters every this many seconds (0: only at exit).", DefaultValueFactory = _ => 1.0, HelpName = "SECONDS" };

        var command = new Command("responder", """
            Answer pings on a TUN/TAP device entirely in user space.

            Creates the device (or attaches to an existing persistent one), gives its kernel side the
            addresses you name, and then answers, as every other host of those prefixes: ARP and IPv6
            neighbor discovery (tap), ICMP and ICMPv6 echo, and UDP echo on port 7. Live counters show
            packets received, replied, ignored and dropped by reason until Ctrl-C; then it prints a
            summary, removes what it created and exits 0.

            Example:
              tuntap responder tun0 --mode tun --address 10.9.0.1/24 --address fd00:9::1/64
              ping 10.9.0.2          # answered by tuntap, not by the kernel
            """)
        {
            name, mode, addresses, pcap, netns, mtu, interval,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var deviceMode = parse.GetValue(mode);
            var spec = new DeviceProvisioning
            {
                Device = new TunDeviceOptions { Name = parse.GetRequiredValue(name), Mode = deviceMode },
                Netns = parse.GetValue(netns),
                Addresses = parse.GetRequiredValue(addresses),
                Mtu = parse.GetValue(mtu),
            };
            using var shutdown = new ShutdownSignal(cancellationToken);
            var pcapFile = parse.GetValue(pcap);
            await using var capture = pcapFile is null ? null : OpenCapture(pcapFile, deviceMode);
            await using var device = ProvisionedDevice.Create(spec);
            var responder = new PacketResponder(deviceMode, spec.Addresses, RandomLocalMac());
            var loop = new ResponderLoop(device.Device, responder, capture?.Writer);
            var maxPacket = Math.Max(spec.Mtu ?? 1500, 1500) + 64;

            Console.Out.WriteLine($"responder: answering on {device.Device.Name} ({(deviceMode == DeviceMode.Tap ? "tap" : "tun")}) for {string.Join(", ", spec.Addresses)}; Ctrl-C stops");
            var counters = new CounterSet(device.Device.Name, rows => ReadCounters(responder.Counters, rows));
            var work = loop.RunAsync(maxPacket, shutdown.Token);
            await LiveCounters.RunAsync([counters], work, TimeSpan.FromSeconds(parse.GetValue(interval)), shutdown.Token).ConfigureAwait(false);

            RunSummary.Print([counters], pcapFile, device);
            return 0;
        });
        return command;
    }

    internal static void ReadCounters(ResponderCounters counters, List<(string, long)> rows)
    {
        rows.Add(("received", counters.Received));
        rows.Add(("replied", counters.Replied));
        rows.Add(("ignored", counters.Ignored));
        rows.Add(("dropped", counters.Dropped));
        DropReasonNames.AddRows<ResponderDropReason>(rows, "dropped", counters.GetDropped);
    }

    internal static CaptureFile OpenCapture(FileInfo file, DeviceMode mode) =>
        CaptureFile.Create(file.FullName, mode == DeviceMode.Tap ? PcapLinkType.Ethernet : PcapLinkType.Raw);

    /// <summary>A random locally administered unicast MAC (02:xx:xx:xx:xx:xx family).</summary>
    internal static PhysicalAddress RandomLocalMac()
    {
        var bytes = RandomNumberGenerator.GetBytes(6);
        bytes[0] = (byte)((bytes[0] & 0xFE) | 0x02);
        return new PhysicalAddress(bytes);
    }
}
