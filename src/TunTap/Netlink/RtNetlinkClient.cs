using System.Net.Sockets;
using System.Text;

namespace TunTap.Netlink;

/// <summary>
/// Configures links, addresses and routes over an rtnetlink (NETLINK_ROUTE) socket, the way
/// <c>ip link</c>, <c>ip addr</c> and <c>ip route</c> do, without spawning them. The socket belongs
/// to the network namespace of the thread that opened it; open one inside
/// <see cref="NetworkNamespace.Run{T}(string, Func{T})"/> to work on another namespace. Requests are
/// serialized, so one client may be shared between threads.
/// </summary>
public sealed class RtNetlinkClient : IDisposable
{
    private const int RequestBufferSize = 512;
    private const int MaxInterfaceNameBytes = 15;
    private const string NoInterfaceHint = "list interfaces with 'ip link' (or 'ip -n NAMESPACE link' if it lives in another network namespace)";

    private readonly NetlinkSocket _socket;
    private readonly Lock _lock = new();

    private RtNetlinkClient(NetlinkSocket socket)
    {
        _socket = socket;
    }

    private delegate void RequestWriter(ref NetlinkMessageWriter writer, uint sequence);

    private delegate bool ReplyParser<T>(ReadOnlySpan<byte> payload, out T? item)
        where T : class;

    /// <summary>Opens a NETLINK_ROUTE socket in the calling thread's network namespace.</summary>
    public static RtNetlinkClient Open() => new(NetlinkSocket.Open(NetlinkProtocol.NetlinkRoute));

    /// <summary>Every link in the namespace, in the kernel's order (by index).</summary>
    public IReadOnlyList<LinkInfo> GetLinks() =>
        Dump("list links", NetlinkProtocol.NewLink, LinkMessage.WriteDump, static (ReadOnlySpan<byte> p, out LinkInfo? l) => LinkMessage.TryParse(p, out l));

    /// <summary>The link named <paramref name="name"/>.</summary>
    /// <exception cref="TunTapException">There is no interface of that name.</exception>
    public LinkInfo GetLink(string name) =>
        FindLink(name) ?? throw new NetlinkException($"get link {name}", Errno.ENODEV, null, $"no interface named '{name}'", NoInterfaceHint);

    /// <summary>The link named <paramref name="name"/>, or null when there is none.</summary>
    public LinkInfo? FindLink(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || Encoding.UTF8.GetByteCount(name) > MaxInterfaceNameBytes)
        {
            return null;
        }

        LinkInfo? found = null;
        var error = Request(
            (ref NetlinkMessageWriter w, uint s) => LinkMessage.WriteGet(ref w, s, name),
            message =>
            {
                if (message.Type == NetlinkProtocol.NewLink && LinkMessage.TryParse(message.Payload, out var link))
                {
                    found = link;
                }
            });
        return error.ErrorNumber switch
        {
            0 => found,
            Errno.ENODEV => null,
            _ => throw NetlinkException.From($"get link {name}", error),
        };
    }

    /// <summary>Brings the link up or down (<c>ip link set NAME up|down</c>).</summary>
    public void SetUp(string name, bool up)
    {
        ValidateName(name);
        var operation = $"set {name} {(up ? "up" : "down")}";
        Check(operation, Request((ref NetlinkMessageWriter w, uint s) => LinkMessage.WriteSetUp(ref w, s, name, up)), name);
    }

    /// <summary>Sets the link's MTU (<c>ip link set NAME mtu N</c>).</summary>
    /// <exception cref="TunTapException">The MTU is out of the device's range, or there is no such interface.</exception>
    public void SetMtu(string name, int mtu)
    {
        ValidateName(name);
        var operation = $"set MTU of {name} to {mtu}";
        if (mtu <= 0)
        {
            throw new TunTapException($"{operation}: MTU {mtu} is out of range for {name}", "an MTU is a positive number of bytes, e.g. 1500");
        }

        var error = Request((ref NetlinkMessageWriter w, uint s) => LinkMessage.WriteSetMtu(ref w, s, name, (uint)mtu));
        if (error.ErrorNumber == Errno.EINVAL)
        {
            throw NetlinkException.From(operation, error, $"MTU {mtu} is out of range for {name}", "the allowed range depends on the device (veth and TUN/TAP: 68-65535; IPv6 needs at least 1280)");
        }

        Check(operation, error, name);
    }

    /// <summary>
    /// Caps how many segments one GSO (super) packet the kernel hands the link may have
    /// (<c>ip link set NAME gso_max_segs N</c>); the stack's TCP then builds super packets of at
    /// most that many segments.
    /// </summary>
    /// <exception cref="TunTapException">The count is out of the device's range, or there is no such interface.</exception>
    public void SetGsoMaxSegments(string name, int segments)
    {
        ValidateName(name);
        var operation = $"set gso_max_segs of {name} to {segments}";
        if (segments is <= 0 or > ushort.MaxValue)
        {
            throw new TunTapException($"{operation}: {segments} is out of range", "gso_max_segs is from 1 to 65535");
        }

        var error = Request((ref NetlinkMessageWriter w, uint s) => LinkMessage.WriteSetGsoMaxSegments(ref w, s, name, (uint)segments));
        if (error.ErrorNumber == Errno.EINVAL)
        {
            throw NetlinkException.From(operation, error, $"{segments} is above what {name} takes (its tso_max_segs)", "give a smaller count");
        }

        Check(operation, error, name);
    }

    /// <summary>Renames the link (<c>ip link set NAME name NEWNAME</c>); kinds that cannot be renamed while up fail with EBUSY.</summary>
    public void Rename(string name, string newName)
    {
        ValidateName(name);
        ValidateName(newName);
        var operation = $"rename {name} to {newName}";
        var index = GetLink(name).Index;
        var error = Request((ref NetlinkMessageWriter w, uint s) => LinkMessage.WriteRename(ref w, s, index, newName));
        switch (error.ErrorNumber)
        {
            case Errno.EEXIST:
                throw NetlinkException.From(operation, error, $"an interface named '{newName}' already exists", "pick another name");
            case Errno.EBUSY:
                throw NetlinkException.From(operation, error, $"{name} is up", $"bring it down first: ip link set {name} down");
            default:
                Check(operation, error, name);
                break;
        }
    }

    /// <summary>Moves the link into the named namespace <paramref name="netns"/> (<c>ip link set NAME netns NS</c>).</summary>
    /// <exception cref="TunTapException">The namespace or the interface does not exist, or the target has a link of that name.</exception>
    public void MoveToNamespace(string name, string netns)
    {
        ValidateName(name);
        var operation = $"move {name} to network namespace '{netns}'";
        using var handle = NetworkNamespace.OpenHandle(netns);
        var fd = (int)handle.DangerousGetHandle();
        var error = Request((ref NetlinkMessageWriter w, uint s) => LinkMessage.WriteMoveToNamespace(ref w, s, name, fd));
        if (error.ErrorNumber == Errno.EEXIST)
        {
            throw NetlinkException.From(operation, error, $"namespace '{netns}' already has an interface named '{name}'", "rename one of them first");
        }

        Check(operation, error, name);
    }

    /// <summary>
    /// Creates a veth pair (<c>ip link add NAME type veth peer name PEER [netns NS]</c>); the peer is
    /// created directly in <paramref name="peerNetns"/> when given. Both ends start down.
    /// </summary>
    public void CreateVethPair(string name, string peerName, string? peerNetns = null)
    {
        ValidateName(name);
        ValidateName(peerName);
        var operation = $"create veth pair {name}/{peerName}{(peerNetns is null ? "" : $" (peer in network namespace '{peerNetns}')")}";
        using var handle = peerNetns is null ? null : NetworkNamespace.OpenHandle(peerNetns);
        int? fd = handle is null ? null : (int)handle.DangerousGetHandle();
        var error = Request((ref NetlinkMessageWriter w, uint s) => LinkMessage.WriteCreateVeth(ref w, s, name, peerName, fd));
        if (error.ErrorNumber == Errno.EEXIST)
        {
            throw NetlinkException.From(operation, error, $"an interface named '{name}' or '{peerName}' already exists", "pick other names, or delete the old link with 'ip link del'");
        }

        Check(operation, error, name);
    }

    /// <summary>Deletes the link (<c>ip link del NAME</c>); deleting one end of a veth pair deletes both.</summary>
    public void DeleteLink(string name)
    {
        ValidateName(name);
        Check($"delete link {name}", Request((ref NetlinkMessageWriter w, uint s) => LinkMessage.WriteDelete(ref w, s, name)), name);
    }

    /// <summary>Every IPv4 and IPv6 address of every interface.</summary>
    public IReadOnlyList<AddressInfo> GetAddresses() =>
        Dump("list addresses", NetlinkProtocol.NewAddr, AddressMessage.WriteDump, static (ReadOnlySpan<byte> p, out AddressInfo? a) => AddressMessage.TryParse(p, out a));

    /// <summary>The addresses of the interface named <paramref name="name"/>.</summary>
    /// <exception cref="TunTapException">There is no interface of that name.</exception>
    public IReadOnlyList<AddressInfo> GetAddresses(string name)
    {
        var index = GetLink(name).Index;
        var result = new List<AddressInfo>();
        foreach (var address in GetAddresses())
        {
            if (address.InterfaceIndex == index)
            {
                result.Add(address);
            }
        }

        return result;
    }

    /// <summary>
    /// Adds an address (<c>ip addr add ADDRESS/PREFIX dev NAME [nodad]</c>). With
    /// <paramref name="noDad"/> an IPv6 address is usable at once, skipping duplicate address detection.
    /// </summary>
    /// <exception cref="TunTapException">The address already exists there, or there is no such interface.</exception>
    public void AddAddress(string name, InterfaceAddress address, bool noDad = false)
    {
        ValidateName(name);
        ValidateAddress(address);
        var operation = $"add address {address} to {name}";
        var index = GetLink(name).Index;
        var error = Request((ref NetlinkMessageWriter w, uint s) => AddressMessage.WriteAdd(ref w, s, index, address, noDad));
        if (error.ErrorNumber == Errno.EEXIST)
        {
            throw NetlinkException.From(operation, error, "the address already exists", $"it is already assigned; remove it first with 'ip addr del {address} dev {name}'");
        }

        Check(operation, error, name);
    }

    /// <summary>Removes an address (<c>ip addr del ADDRESS/PREFIX dev NAME</c>).</summary>
    /// <exception cref="SystemCallException">The interface does not have that address, or does not exist.</exception>
    public void DeleteAddress(string name, InterfaceAddress address)
    {
        ValidateName(name);
        ValidateAddress(address);
        var operation = $"delete address {address} from {name}";
        var index = GetLink(name).Index;
        var error = Request((ref NetlinkMessageWriter w, uint s) => AddressMessage.WriteDelete(ref w, s, index, address));
        if (error.ErrorNumber == Errno.EADDRNOTAVAIL)
        {
            throw NetlinkException.From(operation, error, $"{name} has no address {address}", $"list its addresses with 'ip addr show dev {name}'");
        }

        Check(operation, error, name);
    }

    /// <summary>The IPv4 and IPv6 routes of the main table (what <c>ip route</c> and <c>ip -6 route</c> list).</summary>
    public IReadOnlyList<RouteInfo> GetRoutes()
    {
        var links = GetLinks();
        var routes = Dump("list routes", NetlinkProtocol.NewRoute, RouteMessage.WriteDump, static (ReadOnlySpan<byte> p, out RouteInfo? r) =>
            RouteMessage.TryParse(p, out r, out var table) && table == NetlinkProtocol.RtTableMain);
        var result = new List<RouteInfo>(routes.Count);
        foreach (var route in routes)
        {
            result.Add(route.InterfaceIndex is { } index ? route with { Device = NameOf(links, index) } : route);
        }

        return result;
    }

    /// <summary>Adds a route to the main table (<c>ip route add DEST [via GW] [dev NAME] [metric N]</c>).</summary>
    /// <exception cref="TunTapException">The route exists, the gateway is unreachable, or the device does not exist.</exception>
    public void AddRoute(RouteSpec route)
    {
        var operation = $"add route {Describe(route)}";
        var index = ResolveRoute(route);
        var error = Request((ref NetlinkMessageWriter w, uint s) => RouteMessage.WriteAdd(ref w, s, route, index));
        switch (error.ErrorNumber)
        {
            case Errno.EEXIST:
                throw NetlinkException.From(operation, error, "the route already exists", "delete it first, or give it another metric");
            case Errno.ENETUNREACH:
                throw NetlinkException.From(operation, error, $"the gateway {route.Gateway} is not on a connected network", "add an address in the gateway's subnet first, or name the device");
            default:
                Check(operation, error, route.Device);
                break;
        }
    }

    /// <summary>Deletes a route from the main table (<c>ip route del DEST [via GW] [dev NAME] [metric N]</c>).</summary>
    /// <exception cref="TunTapException">No such route, or the device does not exist.</exception>
    public void DeleteRoute(RouteSpec route)
    {
        var operation = $"delete route {Describe(route)}";
        var index = ResolveRoute(route);
        var error = Request((ref NetlinkMessageWriter w, uint s) => RouteMessage.WriteDelete(ref w, s, route, index));
        if (error.ErrorNumber == Errno.ESRCH)
        {
            throw NetlinkException.From(operation, error, "no such route", "list the routes with 'ip route' or 'ip -6 route'");
        }

        Check(operation, error, route.Device);
    }

    /// <inheritdoc/>
    public void Dispose() => _socket.Dispose();

    private static void Check(string operation, NetlinkError error, string? name)
    {
        switch (error.ErrorNumber)
        {
            case 0:
                return;
            case Errno.ENODEV when name is not null:
                throw NetlinkException.From(operation, error, $"no interface named '{name}'", NoInterfaceHint);
            default:
                throw NetlinkException.From(operation, error);
        }
    }

    private static void ValidateName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || Encoding.UTF8.GetByteCount(name) > MaxInterfaceNameBytes || name is "." or ".." ||
            name.AsSpan().IndexOfAny('/', ':') >= 0 || name.AsSpan().ContainsAny(" \t\n\r\0"))
        {
            throw new TunTapException($"'{name}' is not a valid interface name", "use 1-15 bytes without '/', ':' or spaces");
        }
    }

    private static void ValidateAddress(InterfaceAddress address)
    {
        if (address.Address is null || address.Address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) ||
            address.PrefixLength < 0 || address.PrefixLength > address.MaxPrefixLength)
        {
            throw new TunTapException($"'{address}' is not a valid interface address", "write it as ADDRESS/PREFIX, e.g. 10.0.0.1/24 or fd00::1/64");
        }
    }

    private static string Describe(RouteSpec route)
    {
        var text = new StringBuilder(route.Destination.Network.ToString());
        if (route.Gateway is { } gateway)
        {
            text.Append(" via ").Append(gateway);
        }

        if (route.Device is { } device)
        {
            text.Append(" dev ").Append(device);
        }

        if (route.Metric is { } metric)
        {
            text.Append(" metric ").Append(metric);
        }

        return text.ToString();
    }

    private static string? NameOf(IReadOnlyList<LinkInfo> links, int index)
    {
        foreach (var link in links)
        {
            if (link.Index == index)
            {
                return link.Name;
            }
        }

        return null;
    }

    private int? ResolveRoute(RouteSpec route)
    {
        ArgumentNullException.ThrowIfNull(route);
        ValidateAddress(route.Destination);
        if (route.Gateway is { } gateway && gateway.AddressFamily != route.Destination.Address.AddressFamily)
        {
            throw new TunTapException($"route {Describe(route)}: the gateway and the destination are of different address families", "use an IPv4 gateway for an IPv4 route and an IPv6 gateway for an IPv6 route");
        }

        if (route.Metric is < 0)
        {
            throw new TunTapException($"route {Describe(route)}: metric {route.Metric} is negative", "use a metric from 0 to 2147483647");
        }

        if (route.Device is null)
        {
            return route.Gateway is null
                ? throw new TunTapException($"route {Describe(route)} needs a gateway or a device", "add 'via GATEWAY' or 'dev NAME'")
                : null;
        }

        ValidateName(route.Device);
        return GetLink(route.Device).Index;
    }

    private NetlinkError Request(RequestWriter write, NetlinkReplyHandler? handler = null)
    {
        Span<byte> buffer = stackalloc byte[RequestBufferSize];
        lock (_lock)
        {
            var sequence = _socket.NextSequence();
            var writer = new NetlinkMessageWriter(buffer);
            write(ref writer, sequence);
            return _socket.Transact(writer.Written, sequence, dump: false, handler, out _);
        }
    }

    private List<T> Dump<T>(string operation, ushort replyType, RequestWriter write, ReplyParser<T> parse)
        where T : class
    {
        Span<byte> buffer = stackalloc byte[RequestBufferSize];
        var items = new List<T>();
        lock (_lock)
        {
            for (var attempt = 0; ; attempt++)
            {
                items.Clear();
                var sequence = _socket.NextSequence();
                var writer = new NetlinkMessageWriter(buffer);
                write(ref writer, sequence);
                var error = _socket.Transact(writer.Written, sequence, dump: true, message =>
                {
                    if (message.Type == replyType && parse(message.Payload, out var item) && item is not null)
                    {
                        items.Add(item);
                    }
                }, out var interrupted);
                if (error.ErrorNumber != 0)
                {
                    throw NetlinkException.From(operation, error);
                }

                // The data changed while the kernel was sending it: read it again for a consistent view.
                if (!interrupted || attempt >= NetlinkSocket.InterruptedRetries)
                {
                    return items;
                }
            }
        }
    }
}
