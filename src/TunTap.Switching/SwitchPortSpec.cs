using System.Globalization;
using System.Net;

namespace TunTap.Switching;

/// <summary>
/// A port as written on the command line: <c>tap:IFNAME[@NETNS]</c>, <c>qemu:unix:PATH</c>,
/// <c>qemu:tcp:[ADDR:]PORT</c>, <c>qemu:dgram:[ADDR:]PORT[@NETNS][,remote=ADDR:PORT]</c>,
/// <c>qemu:dgram:unix:PATH[,remote=PATH]</c> or <c>vxlan:REMOTE[:PORT][+REMOTE[:PORT]...][@NETNS],vni=N[,local=ADDR:PORT]</c>,
/// optionally followed by <c>,vlan=N</c> (access port),
/// <c>,trunk=N[,N|N-M...][,native=N]</c> (trunk) and <c>,mac-limit=N</c>.
/// </summary>
public sealed record SwitchPortSpec
{
    /// <summary>The forms, for error messages and help.</summary>
    public const string AllowedForms = "tap:IFNAME[@NETNS], qemu:unix:PATH, qemu:tcp:[ADDR:]PORT, qemu:dgram:[ADDR:]PORT[@NETNS][,remote=ADDR:PORT], qemu:dgram:unix:PATH[,remote=PATH], vxlan:REMOTE[:PORT][+REMOTE...][@NETNS],vni=N[,local=ADDR:PORT]; options after the spec: ,vlan=N | ,trunk=N[,N|N-M...][,native=N] and ,mac-limit=N";

    private const string OptionForms = "vlan=N, trunk=N[,N|N-M...], native=N, mac-limit=N (vxlan: also vni=N, local=ADDR:PORT; qemu:dgram: also remote=ADDR:PORT or remote=PATH)";

    /// <summary>The kind of port.</summary>
    public required SwitchPortKind Kind { get; init; }

    /// <summary>The spec as written.</summary>
    public required string Text { get; init; }

    /// <summary>For <see cref="SwitchPortKind.Tap"/>: the interface name.</summary>
    public string? InterfaceName { get; init; }

    /// <summary>For <see cref="SwitchPortKind.Tap"/>, <see cref="SwitchPortKind.Vxlan"/> and <see cref="SwitchPortKind.QemuDgram"/>: the namespace to create the device or socket in, or null.</summary>
    public string? Netns { get; init; }

    /// <summary>For <see cref="SwitchPortKind.QemuUnix"/> and <see cref="SwitchPortKind.QemuDgramUnix"/>: the socket path.</summary>
    public string? Path { get; init; }

    /// <summary>For <see cref="SwitchPortKind.QemuTcp"/>: where to listen; for <see cref="SwitchPortKind.Vxlan"/>: the remote endpoint; for <see cref="SwitchPortKind.QemuDgram"/>: the remote (QEMU's local address), or null.</summary>
    public IPEndPoint? Endpoint { get; init; }

    /// <summary>For <see cref="SwitchPortKind.Vxlan"/>: every remote endpoint (the first is <see cref="Endpoint"/>).</summary>
    public IReadOnlyList<IPEndPoint>? Remotes { get; init; }

    /// <summary>For <see cref="SwitchPortKind.Vxlan"/>: the VXLAN Network Identifier.</summary>
    public uint Vni { get; init; }

    /// <summary>For <see cref="SwitchPortKind.Vxlan"/>: the local UDP address (null: any address, port 4789); for <see cref="SwitchPortKind.QemuDgram"/>: where the switch receives.</summary>
    public IPEndPoint? Local { get; init; }

    /// <summary>For <see cref="SwitchPortKind.QemuDgramUnix"/>: QEMU's socket path frames are sent to, or null (the last sender).</summary>
    public string? RemotePath { get; init; }

    /// <summary>The VLAN configuration (access VLAN 1 unless given).</summary>
    public PortVlan Vlan { get; init; } = PortVlan.Default;

    /// <summary>The port's MAC limit, or null for the switch default.</summary>
    public int? MacLimit { get; init; }

    /// <summary>Parses a spec.</summary>
    /// <exception cref="TunTapException">The text is not one of the <see cref="AllowedForms"/>.</exception>
    public static SwitchPortSpec Parse(string text) =>
        TryParse(text, out var spec, out var error) ? spec : throw new TunTapException(error, $"allowed: {AllowedForms}");

    /// <summary>Parses a spec; on failure <paramref name="error"/> says what is wrong and names the allowed forms.</summary>
    public static bool TryParse(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SwitchPortSpec? spec, out string error)
    {
        ArgumentNullException.ThrowIfNull(text);
        spec = null;
        var comma = text.IndexOf(',', StringComparison.Ordinal);
        var head = comma < 0 ? text : text[..comma];
        var options = comma < 0 ? "" : text[(comma + 1)..];
        if (!TryParseHead(text, head, out spec, out error))
        {
            return false;
        }

        if (!TryParseOptions(text, options, out var vlan, out var macLimit, out var vni, out var local, out var remote, out error))
        {
            spec = null;
            return false;
        }

        if (spec.Kind == SwitchPortKind.Vxlan && vni is null)
        {
            error = $"port '{text}': a vxlan port needs ,vni=N (0-{TunTap.Wire.VxlanHeader.MaxVni})";
            spec = null;
            return false;
        }

        if (spec.Kind != SwitchPortKind.Vxlan && (vni is not null || local is not null))
        {
            error = $"port '{text}': vni= and local= belong to vxlan: ports";
            spec = null;
            return false;
        }

        if (local is not null && local.AddressFamily != spec.Endpoint!.AddressFamily)
        {
            error = $"port '{text}': local={local} and the remote {spec.Endpoint} are of different address families";
            spec = null;
            return false;
        }

        if (!TryApplyRemote(text, ref spec, remote, out error))
        {
            spec = null;
            return false;
        }

        spec = spec with { Vlan = vlan, MacLimit = macLimit, Vni = vni ?? 0, Local = local ?? spec.Local };
        return true;
    }

    /// <summary>Opens the port (creates the TAP device, or listens on the socket).</summary>
    /// <exception cref="TunTapException">The device or socket cannot be set up.</exception>
    public ISwitchPort Open(int maxFrameSize, Action<string>? log = null) => Kind switch
    {
        SwitchPortKind.Tap => TapPort.Create(InterfaceName!, Netns),
        SwitchPortKind.QemuUnix => QemuStreamPort.ListenUnix(Path!, maxFrameSize, log: log),
        SwitchPortKind.Vxlan => VxlanPort.Open(Remotes ?? [Endpoint!], Vni, Local, Netns, maxFrameSize),
        SwitchPortKind.QemuDgram => QemuDgramPort.OpenUdp(Local!, Endpoint, Netns),
        SwitchPortKind.QemuDgramUnix => QemuDgramPort.OpenUnix(Path!, RemotePath),
        _ => QemuStreamPort.ListenTcp(Endpoint!, maxFrameSize, log: log),
    };

    /// <summary>The port configuration for the switch, named <paramref name="name"/>.</summary>
    public SwitchPortConfig ToConfig(string name) => new() { Name = name, Vlan = Vlan, MacLimit = MacLimit };

    /// <summary>The spec as written.</summary>
    public override string ToString() => Text;

    private static bool TryParseHead(string text, string head, out SwitchPortSpec spec, out string error)
    {
        spec = null!;
        error = "";
        if (head.StartsWith("tap:", StringComparison.Ordinal))
        {
            var rest = head[4..];
            var at = rest.IndexOf('@', StringComparison.Ordinal);
            var name = at < 0 ? rest : rest[..at];
            var netns = at < 0 ? null : rest[(at + 1)..];
            if (name.Length is 0 or > 15 || name.Contains('/', StringComparison.Ordinal) || name.Contains(' ', StringComparison.Ordinal) || netns is { Length: 0 })
            {
                error = $"port '{text}': '{head}' needs an interface name of 1-15 characters (and a namespace after '@', if any)";
                return false;
            }

            spec = new SwitchPortSpec { Kind = SwitchPortKind.Tap, Text = text, InterfaceName = name, Netns = netns };
            return true;
        }

        if (head.StartsWith("qemu:dgram:", StringComparison.Ordinal))
        {
            return TryParseDgramHead(text, head["qemu:dgram:".Length..], out spec, out error);
        }

        if (head.StartsWith("qemu:unix:", StringComparison.Ordinal))
        {
            var path = head["qemu:unix:".Length..];
            if (path.Length == 0)
            {
                error = $"port '{text}': qemu:unix: needs a socket path";
                return false;
            }

            spec = new SwitchPortSpec { Kind = SwitchPortKind.QemuUnix, Text = text, Path = path };
            return true;
        }

        if (head.StartsWith("qemu:tcp:", StringComparison.Ordinal))
        {
            var rest = head["qemu:tcp:".Length..];
            if (!TryParseListen(rest, out var endpoint))
            {
                error = $"port '{text}': '{rest}' is not PORT, ADDR:PORT or [IPV6]:PORT";
                return false;
            }

            spec = new SwitchPortSpec { Kind = SwitchPortKind.QemuTcp, Text = text, Endpoint = endpoint };
            return true;
        }

        if (head.StartsWith("vxlan:", StringComparison.Ordinal))
        {
            var rest = head["vxlan:".Length..];
            var at = rest.LastIndexOf('@');
            var netns = at < 0 ? null : rest[(at + 1)..];
            var remotes = new List<IPEndPoint>();
            foreach (var remote in (at < 0 ? rest : rest[..at]).Split('+'))
            {
                if (!TryParseRemote(remote, out var endpoint) || (remotes.Count > 0 && endpoint.AddressFamily != remotes[0].AddressFamily))
                {
                    remotes.Clear();
                    break;
                }

                remotes.Add(endpoint);
            }

            if (netns is { Length: 0 } || remotes.Count == 0)
            {
                error = $"port '{text}': '{rest}' is not REMOTE, REMOTE:PORT or [IPV6]:PORT, or several of one address family joined by '+' (then @NETNS, if any)";
                return false;
            }

            spec = new SwitchPortSpec { Kind = SwitchPortKind.Vxlan, Text = text, Endpoint = remotes[0], Remotes = remotes, Netns = netns };
            return true;
        }

        error = $"port '{text}' is not a port spec; allowed: {AllowedForms}";
        return false;
    }

    /// <summary>qemu:dgram:unix:PATH or qemu:dgram:[ADDR:]PORT[@NETNS].</summary>
    private static bool TryParseDgramHead(string text, string rest, out SwitchPortSpec spec, out string error)
    {
        spec = null!;
        error = "";
        if (rest.StartsWith("unix:", StringComparison.Ordinal))
        {
            var path = rest["unix:".Length..];
            if (path.Length == 0)
            {
                error = $"port '{text}': qemu:dgram:unix: needs a socket path";
                return false;
            }

            spec = new SwitchPortSpec { Kind = SwitchPortKind.QemuDgramUnix, Text = text, Path = path };
            return true;
        }

        var at = rest.LastIndexOf('@');
        var netns = at < 0 ? null : rest[(at + 1)..];
        var local = at < 0 ? rest : rest[..at];
        if (netns is { Length: 0 } || !TryParseListen(local, out var endpoint))
        {
            error = $"port '{text}': '{rest}' is not PORT, ADDR:PORT or [IPV6]:PORT (then @NETNS, if any), nor unix:PATH";
            return false;
        }

        spec = new SwitchPortSpec { Kind = SwitchPortKind.QemuDgram, Text = text, Local = endpoint, Netns = netns };
        return true;
    }

    /// <summary>remote= belongs to qemu:dgram ports: an ADDR:PORT for UDP, a path for Unix sockets.</summary>
    private static bool TryApplyRemote(string text, ref SwitchPortSpec spec, string? remote, out string error)
    {
        error = "";
        if (remote is null)
        {
            return true;
        }

        switch (spec.Kind)
        {
            case SwitchPortKind.QemuDgramUnix when remote.Length > 0:
                spec = spec with { RemotePath = remote };
                return true;
            case SwitchPortKind.QemuDgram when TryParseListen(remote, out var endpoint) && endpoint.Port != 0 && !endpoint.Address.Equals(IPAddress.Any):
                if (endpoint.AddressFamily != spec.Local!.AddressFamily)
                {
                    var local = spec.Local.Address.Equals(IPAddress.Any) && endpoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
                        ? new IPEndPoint(IPAddress.IPv6Any, spec.Local.Port)
                        : null;
                    if (local is null)
                    {
                        error = $"port '{text}': remote={remote} and the local address {spec.Local} are of different address families";
                        return false;
                    }

                    spec = spec with { Local = local };
                }

                spec = spec with { Endpoint = endpoint };
                return true;
            case SwitchPortKind.QemuDgram or SwitchPortKind.QemuDgramUnix:
                error = $"port '{text}': remote '{remote}' is not {(spec.Kind == SwitchPortKind.QemuDgram ? "ADDR:PORT" : "a socket path")}";
                return false;
            default:
                error = $"port '{text}': remote= belongs to qemu:dgram: ports";
                return false;
        }
    }

    /// <summary>An address with an optional port (default 4789); a bare IPv6 address needs no brackets.</summary>
    private static bool TryParseRemote(string text, out IPEndPoint endpoint)
    {
        if (IsBareAddress(text, out var address))
        {
            endpoint = new IPEndPoint(address, TunTap.Wire.VxlanHeader.DefaultPort);
            return true;
        }

        if (text.StartsWith('[') && text.EndsWith(']') && IPAddress.TryParse(text[1..^1], out address))
        {
            endpoint = new IPEndPoint(address, TunTap.Wire.VxlanHeader.DefaultPort);
            return true;
        }

        return TryParseListen(text, out endpoint) && !endpoint.Address.Equals(IPAddress.Any) && endpoint.Port != 0;
    }

    /// <summary>A dotted IPv4 address or an IPv6 address without brackets or port ("1234" is not taken for 0.0.4.210).</summary>
    private static bool IsBareAddress(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPAddress? address) =>
        IPAddress.TryParse(text, out address)
        && !text.StartsWith('[')
        && (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 || text.Count(c => c == '.') == 3);

    /// <summary>local=: ADDR:PORT, ADDR (port 4789) or PORT (every address).</summary>
    private static bool TryParseLocal(string text, out IPEndPoint endpoint)
    {
        if (IsBareAddress(text, out var address))
        {
            endpoint = new IPEndPoint(address, TunTap.Wire.VxlanHeader.DefaultPort);
            return true;
        }

        return TryParseListen(text, out endpoint);
    }

    private static bool TryParseListen(string text, out IPEndPoint endpoint)
    {
        endpoint = null!;
        if (ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var bare))
        {
            endpoint = new IPEndPoint(IPAddress.Any, bare);
            return true;
        }

        return IPEndPoint.TryParse(text, out endpoint!) && text.Contains(':', StringComparison.Ordinal) && (!text.StartsWith('[') || text.Contains("]:", StringComparison.Ordinal));
    }

    private static bool TryParseOptions(string text, string options, out PortVlan vlan, out int? macLimit, out uint? vni, out IPEndPoint? local, out string? remote, out string error)
    {
        vlan = PortVlan.Default;
        macLimit = null;
        vni = null;
        local = null;
        remote = null;
        error = "";
        if (options.Length == 0)
        {
            return true;
        }

        ushort? access = null;
        ushort? native = null;
        List<ushort>? trunk = null;
        var inTrunk = false;
        foreach (var option in options.Split(','))
        {
            var equals = option.IndexOf('=', StringComparison.Ordinal);
            var key = equals < 0 ? "" : option[..equals];
            var value = equals < 0 ? option : option[(equals + 1)..];
            if (equals < 0 && !inTrunk)
            {
                error = $"port '{text}': option '{option}' is not KEY=VALUE; allowed: {OptionForms}";
                return false;
            }

            inTrunk = false;
            switch (key)
            {
                case "vlan" when TryVlan(value, out var v):
                    access = v;
                    break;
                case "native" when TryVlan(value, out var n):
                    native = n;
                    break;
                case "trunk" or "" when TryVlanRange(value, trunk ??= []):
                    inTrunk = true;
                    break;
                case "mac-limit" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var limit):
                    macLimit = limit;
                    break;
                case "vni" when uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id <= TunTap.Wire.VxlanHeader.MaxVni:
                    vni = id;
                    break;
                case "local" when TryParseLocal(value, out var endpoint):
                    local = endpoint;
                    break;
                case "remote":
                    remote = value;
                    break;
                case "vni":
                    error = $"port '{text}': vni '{value}' is not a VXLAN network id (0-{TunTap.Wire.VxlanHeader.MaxVni})";
                    return false;
                case "local":
                    error = $"port '{text}': local '{value}' is not ADDR:PORT, ADDR or PORT";
                    return false;
                case "vlan" or "native" or "trunk" or "":
                    error = $"port '{text}': '{value}' is not a VLAN id or range (1-4094)";
                    return false;
                case "mac-limit":
                    error = $"port '{text}': mac-limit '{value}' is not a number";
                    return false;
                default:
                    error = $"port '{text}': unknown option '{key}'; allowed: {OptionForms}";
                    return false;
            }
        }

        if (access is not null && (trunk is not null || native is not null))
        {
            error = $"port '{text}': give either vlan=N (access port) or trunk=... (trunk port), not both";
            return false;
        }

        if (native is not null && trunk is null)
        {
            error = $"port '{text}': native=N belongs to a trunk (trunk=...)";
            return false;
        }

        vlan = trunk is not null ? PortVlan.Trunk(trunk, native) : access is { } a ? PortVlan.Access(a) : PortVlan.Default;
        return true;
    }

    private static bool TryVlan(string text, out ushort vlan) =>
        ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out vlan) && vlan is >= PortVlan.MinVlanId and <= PortVlan.MaxVlanId;

    private static bool TryVlanRange(string text, List<ushort> into)
    {
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            if (!TryVlan(text, out var single))
            {
                return false;
            }

            into.Add(single);
            return true;
        }

        if (!TryVlan(text[..dash], out var from) || !TryVlan(text[(dash + 1)..], out var to) || from > to)
        {
            return false;
        }

        for (var v = from; v <= to; v++)
        {
            into.Add(v);
        }

        return true;
    }
}
