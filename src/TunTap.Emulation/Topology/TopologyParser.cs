using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Parsing;
using Tomlyn.Serialization;

namespace TunTap.Emulation.Topology;

/// <summary>
/// Reads a topology file (TOML):
/// <code>
/// name = "lab"                 # optional: namespaces are NAME-HOST (default: the file name)
/// seed = 7                     # optional: seed of every random choice
/// mtu = 1500                   # optional (68-65535)
///
/// [hosts.client]
/// [hosts.router]
/// router = true                # forwards between its links (ip_forward=1)
/// [hosts.server]
/// routes = ["10.9.0.0/16 via 10.77.1.1"]   # optional, on top of the automatic ones
///
/// [[links]]
/// a = "client"
/// b = "router"
/// delay = "10ms"               # model keys: see LinkSpecKeys, both directions
///
/// [[links]]
/// name = "uplink"              # optional (default "A-B"), for 'tuntap emulate set'
/// a = "router"
/// b = "server"
/// subnet = "10.77.1.0/24"      # optional (default 10.77.N.0/24 for the N-th link, from 0)
/// rate = "10mbit"
/// a_to_b = { loss = "1%" }     # model keys for one direction only
/// </code>
/// A syntax error, an unknown key, a wrong type or an out-of-range value fails with a
/// <see cref="TunTapException"/> whose message starts with <c>FILE:LINE:</c> and names the key
/// (and the allowed keys or range).
/// </summary>
public static class TopologyParser
{
    /// <summary>How many links the automatic 10.77.N.0/24 subnets cover.</summary>
    public const int MaxAutomaticLinks = 256;

    private static readonly string[] TopKeys = ["name", "seed", "mtu", "hosts", "links"];
    private static readonly string[] HostKeys = ["router", "routes"];
    private static readonly string[] LinkKeys = ["name", "a", "b", "subnet", "a_address", "b_address", "a_to_b", "b_to_a", .. LinkSpecKeys.Names];

    /// <summary>Reads and checks the file at <paramref name="path"/>; <paramref name="name"/> overrides the topology's name.</summary>
    /// <exception cref="TunTapException">The file cannot be read or is not a valid topology.</exception>
    public static TopologyDefinition ParseFile(string path, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TunTapException($"cannot read topology file {path}: {e.Message}", "check the path", e);
        }

        return Parse(text, path, name, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>
    /// Parses topology text. <paramref name="sourceName"/> names it in errors (and gives the default
    /// name); relative trace paths are read from <paramref name="baseDirectory"/> through
    /// <paramref name="readFile"/> (default <see cref="File.ReadAllText(string)"/>).
    /// </summary>
    /// <exception cref="TunTapException">The text is not a valid topology.</exception>
    public static TopologyDefinition Parse(string text, string sourceName, string? name = null, string? baseDirectory = null, Func<string, string>? readFile = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(sourceName);
        baseDirectory ??= Directory.GetCurrentDirectory();
        readFile ??= File.ReadAllText;
        var source = new Source(sourceName, Load(text, sourceName));
        var root = source.Root;
        source.CheckKeys(root, TopKeys, "top-level key");

        var topologyName = name ?? source.OptionalString(root, "name") ?? DefaultName(sourceName);
        if (!IsValidName(topologyName, 32, allowDot: true))
        {
            throw name is null && root.ContainsKey("name")
                ? source.Error(source.LineOf(root, "name"), $"name = \"{topologyName}\" is not a valid topology name", "use 1-32 letters, digits, '.', '_' or '-'")
                : new TunTapException($"'{topologyName}' is not a valid topology name", "use 1-32 letters, digits, '.', '_' or '-' (rename the file or set name = \"...\")");
        }

        ulong? seed = root.ContainsKey("seed") ? (ulong)source.Integer(root, "seed", 0, long.MaxValue) : null;
        var mtu = root.ContainsKey("mtu") ? (int)source.Integer(root, "mtu", 68, 65535) : 1500;
        var hosts = ParseHosts(source);
        var links = ParseLinks(source, hosts, baseDirectory, readFile);
        CheckRoutes(source, hosts, links);
        return new TopologyDefinition(topologyName, hosts, links, seed, mtu, baseDirectory);
    }

    /// <summary>True when <paramref name="name"/> (of a topology, host or link) is 1-<paramref name="maxLength"/> letters, digits, '_', '-' (and '.' when allowed, not first).</summary>
    public static bool IsValidName(string name, int maxLength, bool allowDot)
    {
        ArgumentNullException.ThrowIfNull(name);
        var valid = name.Length > 0 && name.Length <= maxLength && name[0] != '.' && name[0] != '-';
        foreach (var c in name)
        {
            valid &= char.IsAsciiLetterOrDigit(c) || c is '_' or '-' || (allowDot && c == '.');
        }

        return valid;
    }

    private static string DefaultName(string sourceName)
    {
        var file = Path.GetFileName(sourceName);
        return file.EndsWith(".toml", StringComparison.OrdinalIgnoreCase) ? file[..^".toml".Length] : file;
    }

    private static (TomlTable Root, TomlMetadataStore Metadata) Load(string text, string sourceName)
    {
        try
        {
            // The strict parse reports what the model reader lets through (a key or table defined twice).
            SyntaxParser.ParseStrict(text, sourceName);
            var metadata = new TomlMetadataStore();
            var context = new TopologyTomlContext(new TomlSerializerOptions { MetadataStore = metadata, SourceName = sourceName });
            var root = TomlSerializer.Deserialize<TomlTable>(text, context) ?? new TomlTable();
            return (root, metadata);
        }
        catch (TomlException e)
        {
            var message = e.Message;
            var line = e.Line;
            if (e.Diagnostics is { Count: > 0 } diagnostics)
            {
                foreach (var diagnostic in diagnostics)
                {
                    message = diagnostic.Message;
                    line = diagnostic.Span.Start.Line + 1;
                    break;
                }
            }

            throw new TunTapException($"{sourceName}:{line}: {message.TrimEnd('.')}", "see docs/emulation.md, 'Topologies', for the format", e);
        }
    }

    private static List<TopologyHost> ParseHosts(Source source)
    {
        var hosts = new List<TopologyHost>();
        if (!source.Root.ContainsKey("hosts"))
        {
            throw new TunTapException($"{source.Name}: no hosts", "declare hosts as [hosts.NAME] tables");
        }

        var table = source.Table(source.Root, "hosts");
        foreach (var (name, value) in table)
        {
            var line = source.LineOf(table, name);
            if (value is not TomlTable host)
            {
                throw source.Error(line, $"hosts.{name} must be a table", "write [hosts." + name + "]");
            }

            if (!IsValidName(name, 32, allowDot: false))
            {
                throw source.Error(line, $"'{name}' is not a valid host name", "use 1-32 letters, digits, '_' or '-'");
            }

            source.CheckKeys(host, HostKeys, $"key of host {name}");
            var router = host.ContainsKey("router") && source.Boolean(host, "router");
            var routes = new List<TopologyRoute>();
            if (host.ContainsKey("routes"))
            {
                var routesLine = source.LineOf(host, "routes");
                if (host["routes"] is not TomlArray array)
                {
                    throw source.Error(routesLine, $"hosts.{name}.routes must be an array of strings", "e.g. routes = [\"10.9.0.0/16 via 10.77.1.1\"]");
                }

                foreach (var item in array)
                {
                    routes.Add(ParseRoute(source, routesLine, item));
                }
            }

            hosts.Add(new TopologyHost(name, router, routes, line));
        }

        if (hosts.Count == 0)
        {
            throw source.Error(source.LineOf(source.Root, "hosts"), "no hosts", "declare hosts as [hosts.NAME] tables");
        }

        return hosts;
    }

    private static TopologyRoute ParseRoute(Source source, int line, object? item)
    {
        var parts = (item as string ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        InterfaceAddress destination = default;
        var valid = parts.Length == 3 && parts[1] == "via" && IPAddress.TryParse(parts[2], out var gateway) && gateway.AddressFamily == AddressFamily.InterNetwork;
        if (valid)
        {
            valid = parts[0] == "default" ? (destination = new InterfaceAddress(IPAddress.Any, 0)) != default || true : InterfaceAddress.TryParse(parts[0], out destination) && destination.IsIPv4;
        }

        if (!valid)
        {
            throw source.Error(line, $"route '{item}' is not 'DESTINATION via GATEWAY'", "e.g. \"10.9.0.0/16 via 10.77.1.1\" or \"default via 10.77.0.1\" (IPv4)");
        }

        return new TopologyRoute(new InterfaceAddress(InterfaceAddress.Mask(destination.Address, destination.PrefixLength), destination.PrefixLength), IPAddress.Parse(parts[2]));
    }

    private static List<TopologyLink> ParseLinks(Source source, List<TopologyHost> hosts, string baseDirectory, Func<string, string> readFile)
    {
        var links = new List<TopologyLink>();
        if (!source.Root.ContainsKey("links"))
        {
            return links;
        }

        var linksLine = source.LineOf(source.Root, "links");
        if (source.Root["links"] is not TomlTableArray array)
        {
            throw source.Error(linksLine, "links must be an array of tables", "write each link as a [[links]] table");
        }

        string ReadTrace(string path) => readFile(Path.Combine(baseDirectory, path));
        foreach (var link in array)
        {
            var index = links.Count;
            var line = source.FirstLine(link, linksLine);
            source.CheckKeys(link, LinkKeys, "link key");
            var a = source.RequiredString(link, "a", line, "the host at end A");
            var b = source.RequiredString(link, "b", line, "the host at end B");
            foreach (var (end, host) in new[] { ("a", a), ("b", b) })
            {
                if (!hosts.Exists(h => h.Name == host))
                {
                    throw source.Error(source.LineOf(link, end), $"{end} = \"{host}\" is not a host", $"declare it as [hosts.{host}], or use one of: {string.Join(", ", hosts.ConvertAll(h => h.Name))}");
                }
            }

            if (a == b)
            {
                throw source.Error(source.LineOf(link, "b"), $"link {index} connects host {a} to itself", "a link joins two different hosts");
            }

            var name = source.OptionalString(link, "name") ?? $"{a}-{b}";
            if (!IsValidName(name, 64, allowDot: true))
            {
                throw source.Error(source.LineOf(link, "name", line), $"'{name}' is not a valid link name", "use 1-64 letters, digits, '.', '_' or '-'");
            }

            if (links.Exists(l => l.Name == name))
            {
                throw source.Error(source.LineOf(link, "name", line), $"two links are named '{name}'", "give one of them another name = \"...\"");
            }

            var (aAddress, bAddress) = Addresses(source, link, index, line);
            var shared = source.ModelValues(link, "", ReadTrace);
            var aToB = Direction(source, link, "a_to_b", shared, ReadTrace);
            var bToA = Direction(source, link, "b_to_a", shared, ReadTrace);
            var specAToB = LinkSpecKeys.ToSpec(aToB.Values);
            var specBToA = LinkSpecKeys.ToSpec(bToA.Values);
            var optionsAToB = source.Spec(aToB.Line, $"link {name} a_to_b", specAToB, ReadTrace);
            var optionsBToA = source.Spec(bToA.Line, $"link {name} b_to_a", specBToA, ReadTrace);
            links.Add(new TopologyLink(name, a, b, aAddress, bAddress, specAToB, specBToA, optionsAToB, optionsBToA, line));
        }

        CheckOverlaps(source, links);
        return links;
    }

    private static (Dictionary<string, string> Values, int Line) Direction(Source source, TomlTable link, string key, Dictionary<string, string> shared, Func<string, string> readTrace)
    {
        var values = new Dictionary<string, string>(shared, StringComparer.Ordinal);
        var line = source.FirstLine(link, 0);
        if (link.ContainsKey(key))
        {
            line = source.LineOf(link, key);
            var table = source.Table(link, key);
            foreach (var (k, v) in source.ModelValues(table, key + ".", readTrace))
            {
                values[k] = v;
            }
        }

        return (values, line);
    }

    private static (InterfaceAddress A, InterfaceAddress B) Addresses(Source source, TomlTable link, int index, int line)
    {
        InterfaceAddress subnet;
        if (link.ContainsKey("subnet"))
        {
            var text = source.OptionalString(link, "subnet")!;
            if (!InterfaceAddress.TryParse(text, out subnet) || !subnet.IsIPv4 || subnet.PrefixLength > 30)
            {
                throw source.Error(source.LineOf(link, "subnet"), $"subnet = \"{text}\" is not an IPv4 network of at least 4 addresses", "e.g. subnet = \"10.77.5.0/24\" (prefix length 0-30)");
            }
        }
        else if (index < MaxAutomaticLinks)
        {
            subnet = new InterfaceAddress(new IPAddress([10, 77, (byte)index, 0]), 24);
        }
        else
        {
            throw source.Error(line, $"link {index} has no subnet and the automatic ones (10.77.0-255.0/24) are used up", "give it subnet = \"...\"");
        }

        var network = InterfaceAddress.Mask(subnet.Address, subnet.PrefixLength).GetAddressBytes();
        var first = (uint)(network[0] << 24 | network[1] << 16 | network[2] << 8 | network[3]);
        var a = new InterfaceAddress(ToAddress(first + 1), subnet.PrefixLength);
        var b = new InterfaceAddress(ToAddress(first + 2), subnet.PrefixLength);
        return (Address(source, link, "a_address", a), Address(source, link, "b_address", b));
    }

    private static IPAddress ToAddress(uint value) => new([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);

    private static InterfaceAddress Address(Source source, TomlTable link, string key, InterfaceAddress fallback)
    {
        if (!link.ContainsKey(key))
        {
            return fallback;
        }

        var text = source.OptionalString(link, key)!;
        if (!InterfaceAddress.TryParse(text, out var address) || !address.IsIPv4 || address.PrefixLength > 30)
        {
            throw source.Error(source.LineOf(link, key), $"{key} = \"{text}\" is not an IPv4 address in CIDR notation", "e.g. \"10.77.5.1/24\" (prefix length 0-30)");
        }

        return address;
    }

    private static void CheckOverlaps(Source source, List<TopologyLink> links)
    {
        for (var i = 0; i < links.Count; i++)
        {
            var link = links[i];
            if (link.AAddress.Address.Equals(link.BAddress.Address) || !link.AAddress.Contains(link.BAddress.Address))
            {
                throw source.Error(link.Line, $"link {link.Name}: {link.AAddress} and {link.BAddress} are not two addresses of one subnet", "give both ends addresses in one subnet");
            }

            for (var j = 0; j < i; j++)
            {
                var other = links[j];
                if (link.AAddress.Contains(other.AAddress.Address) || other.AAddress.Contains(link.AAddress.Address))
                {
                    throw source.Error(link.Line, $"link {link.Name}: subnet {link.AAddress.Network} overlaps link {other.Name}'s {other.AAddress.Network}", "give each link its own subnet");
                }
            }
        }
    }

    private static void CheckRoutes(Source source, List<TopologyHost> hosts, List<TopologyLink> links)
    {
        foreach (var host in hosts)
        {
            foreach (var route in host.Routes)
            {
                if (!links.Exists(l => (l.A == host.Name && l.AAddress.Contains(route.Gateway)) || (l.B == host.Name && l.BAddress.Contains(route.Gateway))))
                {
                    throw source.Error(host.Line, $"host {host.Name}: gateway {route.Gateway} is not on any of its links", "a gateway is an address of a neighbour on a link of this host");
                }
            }
        }
    }

    /// <summary>The parsed document, with the lines its keys came from.</summary>
    private sealed class Source((TomlTable Root, TomlMetadataStore Metadata) loaded)
    {
        public Source(string name, (TomlTable Root, TomlMetadataStore Metadata) loaded)
            : this(loaded)
        {
            Name = name;
        }

        public string Name { get; } = "";

        public TomlTable Root { get; } = loaded.Root;

        private TomlMetadataStore Metadata { get; } = loaded.Metadata;

        public int LineOf(TomlTable table, string key, int fallback = 0)
        {
            if (Metadata.TryGetProperties(table, out var properties) && properties is not null && properties.TryGetProperty(key, out var property) && property is not null)
            {
                return property.Span.Start.Line + 1;
            }

            return fallback;
        }

        /// <summary>The line of the table's first key (a [[links]] entry has no span of its own).</summary>
        public int FirstLine(TomlTable table, int fallback)
        {
            var line = int.MaxValue;
            foreach (var key in table.Keys)
            {
                var keyLine = LineOf(table, key);
                if (keyLine > 0)
                {
                    line = Math.Min(line, keyLine);
                }
            }

            return line == int.MaxValue ? fallback : line;
        }

        public TunTapException Error(int line, string message, string? hint = null)
            => new(line > 0 ? $"{Name}:{line}: {message}" : $"{Name}: {message}", hint);

        public void CheckKeys(TomlTable table, string[] allowed, string what)
        {
            foreach (var key in table.Keys)
            {
                if (Array.IndexOf(allowed, key) < 0)
                {
                    throw Error(LineOf(table, key), $"unknown {what} '{key}'", $"allowed: {string.Join(", ", allowed)}");
                }
            }
        }

        public TomlTable Table(TomlTable table, string key)
            => table[key] as TomlTable ?? throw Error(LineOf(table, key), $"{key} must be a table", $"e.g. {key} = {{ delay = \"10ms\" }}");

        public string? OptionalString(TomlTable table, string key)
        {
            if (!table.TryGetValue(key, out var value))
            {
                return null;
            }

            return value as string ?? throw Error(LineOf(table, key), $"{key} must be a string", $"write {key} = \"...\"");
        }

        public string RequiredString(TomlTable table, string key, int line, string what)
            => OptionalString(table, key) ?? throw Error(line, $"a link has no '{key}' ({what})", $"add {key} = \"HOST\"");

        public bool Boolean(TomlTable table, string key)
            => table[key] as bool? ?? throw Error(LineOf(table, key), $"{key} must be true or false");

        public long Integer(TomlTable table, string key, long min, long max)
        {
            var line = LineOf(table, key);
            var value = table[key] as long? ?? throw Error(line, $"{key} must be a whole number ({min}-{max})");
            if (value < min || value > max)
            {
                throw Error(line, $"{key} = {value} is out of range; allowed {min}-{max}");
            }

            return value;
        }

        /// <summary>The model keys of <paramref name="table"/> as spec values, each checked alone so its error names it and its line.</summary>
        public Dictionary<string, string> ModelValues(TomlTable table, string prefix, Func<string, string> readTrace)
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, raw) in table)
            {
                if (prefix.Length == 0 && !LinkSpecKeys.IsKey(key))
                {
                    continue;
                }

                var line = LineOf(table, key);
                if (prefix.Length > 0 && !LinkSpecKeys.IsKey(key))
                {
                    throw Error(line, $"unknown model key '{prefix}{key}'", $"allowed: {string.Join(", ", LinkSpecKeys.Names)}");
                }

                var value = raw switch
                {
                    string text => text,
                    long number => number.ToString(CultureInfo.InvariantCulture),
                    double number => number.ToString(CultureInfo.InvariantCulture),
                    _ => throw Error(line, $"{prefix}{key} must be a string", $"e.g. {key} = \"{Example(key)}\""),
                };
                Spec(line, $"{prefix}{key} = \"{value}\"", LinkSpecKeys.CheckText(key, value), readTrace);
                values[key] = value;
            }

            return values;
        }

        public LinkModelOptions Spec(int line, string what, string spec, Func<string, string> readTrace)
        {
            try
            {
                return LinkSpecParser.Parse(spec, readTrace);
            }
            catch (TunTapException e)
            {
                var message = e.Message.StartsWith("link spec: ", StringComparison.Ordinal) ? e.Message["link spec: ".Length..] : e.Message;
                throw Error(line, $"{what}: {message}", e.Hint);
            }
        }

        private static string Example(string key) => key switch
        {
            "delay" or "jitter" => "10ms",
            "rate" => "10mbit",
            "queue" => "100",
            "slot" => "1ms 5ms",
            "trace" or "delay_trace" => "traces/link.trace",
            "distribution" => "normal",
            "spec" => "delay 10ms loss 1%",
            _ => "1%",
        };
    }
}
