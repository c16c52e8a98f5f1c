using System.CommandLine;
using TunTap.Devices;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap device add NAME --mode tun|tap ...</c></summary>
internal static class DeviceAddCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "Interface name (at most 15 bytes). A name with %d (e.g. tun%d) lets the kernel pick the number." };
        var mode = CommonOptions.Mode();
        var persist = new Option<bool>("--persist") { Description = "Keep the device after this command exits (like 'ip tuntap add'). Without it the device lives while the command runs and Ctrl-C removes it." };
        var owner = new Option<string?>("--owner") { Description = "User (name or uid) allowed to attach to the device without CAP_NET_ADMIN.", HelpName = "USER" };
        var group = new Option<string?>("--group") { Description = "Group (name or gid) allowed to attach to the device.", HelpName = "GROUP" };
        var multiQueue = new Option<bool>("--multi-queue") { Description = "Create a multi-queue device (IFF_MULTI_QUEUE): several file descriptors, one per queue." };
        var queues = new Option<int>("--queues") { Description = "Queues to open with --multi-queue (1-256).", DefaultValueFactory = _ => 2, HelpName = "N" };
        var vnetHdr = new Option<bool>("--vnet-hdr") { Description = "Prefix packets with a virtio-net header (IFF_VNET_HDR), needed for checksum/segmentation offloads." };
        var mtu = CommonOptions.Mtu();
        var addresses = CommonOptions.Addresses("Address for the kernel side of the device, in CIDR notation; repeat for more.");
        addresses.Arity = ArgumentArity.ZeroOrMore;
        var up = new Option<bool>("--up") { Description = "Bring the link up." };
        var netns = CommonOptions.Netns();

        var command = new Command("add", """
            Create a TUN or TAP device, or attach to an existing persistent one of that name.

            Examples:
              tuntap device add tun0 --mode tun --persist --address 10.9.0.1/24 --up
              tuntap device add tap%d --mode tap --owner alice --multi-queue --queues 4 --persist
              tuntap device add tun1 --mode tun --netns blue --address fd00:9::1/64 --up   (held open until Ctrl-C)
            """)
        {
            name, mode, persist, owner, group, multiQueue, queues, vnetHdr, mtu, addresses, up, netns,
        };
        queues.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 256)
            {
                result.AddError($"--queues: {result.GetValueOrDefault<int>()} is out of range; allowed: 1-256");
            }
        });

        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new TunDeviceOptions
            {
                Name = parse.GetRequiredValue(name),
                Mode = parse.GetValue(mode),
                Persist = parse.GetValue(persist),
                Owner = parse.GetValue(owner) is { } u ? UserIds.ResolveUser(u) : null,
                Group = parse.GetValue(group) is { } g ? UserIds.ResolveGroup(g) : null,
                MultiQueue = parse.GetValue(multiQueue),
                QueueCount = parse.GetValue(multiQueue) ? parse.GetValue(queues) : 1,
                VnetHeader = parse.GetValue(vnetHdr),
            };
            var spec = new DeviceProvisioning
            {
                Device = options,
                Netns = parse.GetValue(netns),
                Addresses = parse.GetValue(addresses) ?? [],
                Mtu = parse.GetValue(mtu),
                Up = parse.GetValue(up),
            };

            await using var device = ProvisionedDevice.Create(spec);
            var where = spec.Netns is null ? "" : $" in namespace '{spec.Netns}'";
            if (options.Persist)
            {
                Console.Out.WriteLine($"{device.Device.Name}: {(device.Created ? "created" : "attached to")} {ModeName(options.Mode)} device{where} (persistent; remove it with 'tuntap device del {device.Device.Name}{(spec.Netns is null ? "" : $" --netns {spec.Netns}")}')");
                return 0;
            }

            Console.Out.WriteLine($"{device.Device.Name}: {(device.Created ? "created" : "attached to")} {ModeName(options.Mode)} device{where}; holding it open, Ctrl-C removes it");
            using var shutdown = new ShutdownSignal(cancellationToken);
            try
            {
                await Task.Delay(Timeout.Infinite, shutdown.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl-C: dispose removes the device.
            }

            Console.Out.WriteLine($"{device.Device.Name}: removed");
            return 0;
        });
        return command;
    }

    internal static string ModeName(DeviceMode mode) => mode == DeviceMode.Tap ? "tap" : "tun";
}
