using TunTap.Devices;
using TunTap.Netlink;

namespace TunTap.Emulation.Topology;

/// <summary>
/// Brings a <see cref="TopologyPlan"/> up: a namespace per host (loopback up, forwarding on for
/// routers), a TUN device per link end with its address, an <see cref="EmulatedLink"/> per link and
/// every host's routes. <see cref="RunAsync"/> moves packets until cancelled; disposing removes all
/// of it. <see cref="Remove"/> cleans up after a runner that could not (a crash): everything lives
/// in the topology's namespaces, so deleting them is enough.
/// </summary>
public sealed class TopologyRunner : IAsyncDisposable
{
    private readonly List<string> _namespaces = [];
    private readonly List<ProvisionedDevice> _devices = [];
    private readonly List<EmulatedLink> _links = [];
    private readonly List<ControlledLink> _controlled = [];
    private readonly Action<string> _log;
    private int _disposed;

    private TopologyRunner(TopologyPlan plan, ulong seed, Action<string> log)
    {
        Plan = plan;
        Seed = seed;
        _log = log;
    }

    /// <summary>The plan it runs.</summary>
    public TopologyPlan Plan { get; }

    /// <summary>The seed of the links' models (link N: A to B uses SEED+2N, B to A SEED+2N+1).</summary>
    public ulong Seed { get; }

    /// <summary>The running links, in file order.</summary>
    public IReadOnlyList<ControlledLink> Links => _controlled;

    /// <summary>
    /// Creates everything <paramref name="plan"/> needs; on failure removes what it created and
    /// throws. <paramref name="log"/> hears one line per namespace, link and route.
    /// </summary>
    /// <exception cref="TunTapException">A namespace of the topology exists already, or the kernel refused a step.</exception>
    public static TopologyRunner Start(TopologyPlan plan, ulong seed, EmulatedLinkOptions? linkOptions = null, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var definition = plan.Definition;
        foreach (var name in plan.Namespaces())
        {
            if (NetworkNamespace.Exists(name))
            {
                throw new TunTapException(
                    $"network namespace '{name}' already exists: emulation {definition.Name} is running, or was not cleaned up",
                    $"stop it with 'tuntap emulate down FILE' (it also cleans up after a crash), or pick another --name");
            }
        }

        var runner = new TopologyRunner(plan, seed, log ?? (_ => { }));
        try
        {
            runner.Build(linkOptions ?? new EmulatedLinkOptions());
            return runner;
        }
        catch
        {
            runner.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>
    /// Deletes the namespaces of the topology <paramref name="name"/> with <paramref name="hosts"/>
    /// that exist (their devices go with them); returns the names it deleted. Missing ones are fine.
    /// </summary>
    public static IReadOnlyList<string> Remove(string name, IEnumerable<string> hosts)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        var removed = new List<string>();
        foreach (var host in hosts)
        {
            var netns = TopologyDefinition.NamespaceOf(name, host);
            if (NetworkNamespace.Exists(netns))
            {
                NetworkNamespace.Delete(netns);
                removed.Add(netns);
            }
        }

        return removed;
    }

    /// <summary>Moves packets on every link until <paramref name="cancellationToken"/> fires or a link fails (then all stop and its error is thrown).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var tasks = new Task[_links.Count];
        for (var i = 0; i < tasks.Length; i++)
        {
            tasks[i] = _links[i].RunAsync(stop.Token);
        }

        if (tasks.Length == 0)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
            return;
        }

        await Task.WhenAny(tasks).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    /// <summary>Closes the devices and deletes the namespaces it created.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var link in _links)
        {
            link.Dispose();
        }

        foreach (var device in _devices)
        {
            await device.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var name in _namespaces)
        {
            try
            {
                NetworkNamespace.Delete(name);
                _log($"namespace {name}: removed");
            }
            catch (TunTapException e)
            {
                _log($"namespace {name}: {e.Message}");
            }
        }
    }

    private void Build(EmulatedLinkOptions linkOptions)
    {
        var definition = Plan.Definition;
        var netlinkOf = new Dictionary<string, RtNetlinkClient>(StringComparer.Ordinal);
        foreach (var host in definition.Hosts)
        {
            var name = Plan.NamespaceOf(host.Name);
            NetworkNamespace.Create(name);
            _namespaces.Add(name);
            NetworkNamespace.Run(name, () =>
            {
                using var netlink = RtNetlinkClient.Open();
                netlink.SetUp("lo", true);
                if (host.IsRouter)
                {
                    // /proc/sys/net belongs to the namespace of the thread that opens it.
                    File.WriteAllText("/proc/sys/net/ipv4/ip_forward", "1");
                }
            });
            _log($"host {host.Name}: namespace {name}{(host.IsRouter ? ", router" : "")}");
        }

        var options = linkOptions with { MaxPacketSize = Math.Max(linkOptions.MaxPacketSize, definition.Mtu) };
        string ReadTrace(string path) => File.ReadAllText(Path.Combine(definition.BaseDirectory, path));
        for (var i = 0; i < definition.Links.Count; i++)
        {
            var link = definition.Links[i];
            var device = TopologyPlan.DeviceOf(i);
            var endA = Provision(Plan.NamespaceOf(link.A), device, link.AAddress, definition.Mtu);
            netlinkOf.TryAdd(link.A, endA.Netlink);
            var endB = Provision(Plan.NamespaceOf(link.B), device, link.BAddress, definition.Mtu);
            netlinkOf.TryAdd(link.B, endB.Netlink);
            var seedAToB = Seed + (2 * (ulong)i);
            var emulated = new EmulatedLink(
                endA.Device,
                endB.Device,
                LinkModel.Create(link.AToB, options.TimeProvider, seedAToB),
                LinkModel.Create(link.BToA, options.TimeProvider, seedAToB + 1),
                options);
            _links.Add(emulated);
            _controlled.Add(new ControlledLink(link.Name, link.A, link.B, emulated, link.AToBSpec, link.BToASpec, seedAToB, ReadTrace));
            _log($"link {link.Name}: {link.A} {device} {link.AAddress} <-> {link.B} {device} {link.BAddress}; a->b: {Describe(link.AToBSpec)}; b->a: {Describe(link.BToASpec)}");
        }

        foreach (var host in definition.Hosts)
        {
            foreach (var route in Plan.Routes[host.Name])
            {
                if (!netlinkOf.TryGetValue(host.Name, out var netlink))
                {
                    break;
                }

                netlink.AddRoute(route);
                _log($"route {host.Name}: {route.Destination} via {route.Gateway} dev {route.Device}");
            }
        }
    }

    private ProvisionedDevice Provision(string netns, string name, InterfaceAddress address, int mtu)
    {
        var device = ProvisionedDevice.Create(new DeviceProvisioning
        {
            Device = new TunDeviceOptions { Name = name, Mode = DeviceMode.Tun },
            Netns = netns,
            Addresses = [address],
            Mtu = mtu == 1500 ? null : mtu,
        });
        _devices.Add(device);
        return device;
    }

    private static string Describe(string spec) => spec.Length == 0 ? "no impairment" : spec;
}
