using System.Net;
using TunTap.Emulation.Topology;

namespace TunTap.Tests.Emulation.Topology;

public sealed class TopologyParserTests
{
    private const string Chain = """
        seed = 9
        mtu = 1400

        [hosts.client]
        [hosts.router]
        router = true
        [hosts.server]
        routes = ["10.9.0.0/16 via 10.77.1.1"]

        [[links]]
        a = "client"
        b = "router"
        delay = "10ms"
        jitter = "2ms"
        loss = "1%"
        b_to_a = { delay = "30ms", rate = "5mbit" }

        [[links]]
        name = "uplink"
        a = "router"
        b = "server"
        subnet = "10.77.1.0/24"
        rate = "10mbit"
        queue = 50
        [links.a_to_b]
        loss = "2%"
        """;

    private static TopologyDefinition Parse(string text, string source = "lab.toml", Func<string, string>? readFile = null) =>
        TopologyParser.Parse(text, source, baseDirectory: "/topologies", readFile: readFile ?? (path => throw new FileNotFoundException(path)));

    private static string ErrorOf(string text, Func<string, string>? readFile = null) =>
        Assert.Throws<TunTapException>(() => Parse(text, readFile: readFile)).Message;

    [Fact]
    public void A_chain_file_gives_hosts_routers_links_addresses_and_a_model_per_direction()
    {
        var topology = Parse(Chain);

        Assert.Equal("lab", topology.Name);
        Assert.Equal(9UL, topology.Seed);
        Assert.Equal(1400, topology.Mtu);
        Assert.Equal(["client", "router", "server"], topology.Hosts.Select(h => h.Name));
        Assert.Equal([false, true, false], topology.Hosts.Select(h => h.IsRouter));
        Assert.Equal(new TopologyRoute(InterfaceAddress.Parse("10.9.0.0/16"), IPAddress.Parse("10.77.1.1")), Assert.Single(topology.Hosts[2].Routes));

        var first = topology.Links[0];
        Assert.Equal("client-router", first.Name);
        Assert.Equal(InterfaceAddress.Parse("10.77.0.1/24"), first.AAddress);
        Assert.Equal(InterfaceAddress.Parse("10.77.0.2/24"), first.BAddress);
        Assert.Equal("delay 10ms 2ms loss 1%", first.AToBSpec);
        Assert.Equal("delay 30ms 2ms loss 1% rate 5mbit", first.BToASpec);
        Assert.Equal(TimeSpan.FromMilliseconds(30), first.BToA.Delay);
        Assert.Equal(5_000_000, first.BToA.RateBitsPerSecond);
        Assert.Equal(0, first.AToB.RateBitsPerSecond);
        Assert.Equal(11, first.Line);

        var second = topology.Links[1];
        Assert.Equal("uplink", second.Name);
        Assert.Equal(InterfaceAddress.Parse("10.77.1.1/24"), second.AAddress);
        Assert.Equal(InterfaceAddress.Parse("10.77.1.2/24"), second.BAddress);
        Assert.Equal("loss 2% rate 10mbit queue 50", second.AToBSpec);
        Assert.Equal("rate 10mbit queue 50", second.BToASpec);
        Assert.Equal(50, second.BToA.QueueLimitPackets);
    }

    [Fact]
    public void The_name_comes_from_the_file_then_the_name_key_then_the_override()
    {
        Assert.Equal("dumbbell", TopologyParser.Parse("[hosts.a]", "/x/dumbbell.toml").Name);
        Assert.Equal("lab2", TopologyParser.Parse("name = \"lab2\"\n[hosts.a]", "/x/dumbbell.toml").Name);
        Assert.Equal("tt-1", TopologyParser.Parse("name = \"lab2\"\n[hosts.a]", "/x/dumbbell.toml", name: "tt-1").Name);
    }

    [Fact]
    public void Trace_paths_are_read_relative_to_the_base_directory()
    {
        var read = new List<string>();
        var topology = Parse("""
            [hosts.a]
            [hosts.b]
            [[links]]
            a = "a"
            b = "b"
            trace = "traces/t.down"
            """, readFile: path =>
        {
            read.Add(path);
            return "1\n2\n3\n4\n";
        });

        Assert.NotEmpty(read);
        Assert.All(read, path => Assert.Equal("/topologies/traces/t.down", path));
        Assert.NotNull(topology.Links[0].AToB.Trace);
    }

    [Fact]
    public void The_examples_parse()
    {
        var examples = Path.Combine(RepositoryRoot(), "examples");
        foreach (var file in new[] { "dumbbell.toml", "wifi-last-hop.toml", "cellular.toml" })
        {
            var topology = TopologyParser.ParseFile(Path.Combine(examples, file));
            Assert.NotEmpty(topology.Links);
            Assert.Contains(topology.Hosts, h => h.IsRouter);
        }

        var dumbbell = TopologyParser.ParseFile(Path.Combine(examples, "dumbbell.toml"));
        var bottleneck = Assert.Single(dumbbell.Links, l => l.Name == "bottleneck");
        Assert.Equal(10_000_000, bottleneck.AToB.RateBitsPerSecond);
        Assert.Equal(6, dumbbell.Hosts.Count);
    }

    [Theory]
    [InlineData("[hosts.a]\nb = \n", "lab.toml:2:")]
    [InlineData("[hosts.a]\n[hosts.a]\n", "lab.toml:2:")]
    [InlineData("nam = \"x\"\n[hosts.a]\n", "lab.toml:1: unknown top-level key 'nam'")]
    [InlineData("[hosts.a]\nrouter = true\nroute = []\n", "lab.toml:3: unknown key of host a 'route'")]
    [InlineData("[hosts.a]\nrouter = \"yes\"\n", "lab.toml:2: router must be true or false")]
    [InlineData("[hosts.a]\n[hosts.b]\n[[links]]\na = \"a\"\nb = \"b\"\ndelya = \"5ms\"\n", "lab.toml:6: unknown link key 'delya'")]
    [InlineData("[hosts.a]\n[hosts.b]\n[[links]]\na = \"a\"\nb = \"b\"\na_to_b = { rat = \"1mbit\" }\n", "lab.toml:6: unknown model key 'a_to_b.rat'")]
    [InlineData("[hosts.a]\n[hosts.b]\n[[links]]\na = \"a\"\nb = \"b\"\n\nloss = \"150%\"\n", "lab.toml:7: loss = \"150%\": --loss: 150% is out of range; allowed 0-100%")]
    [InlineData("[hosts.a]\n[hosts.b]\n[[links]]\na = \"a\"\nb = \"b\"\ndelay = \"fast\"\n", "lab.toml:6: delay = \"fast\": 'fast' after 'delay' is not a time")]
    [InlineData("[hosts.a]\n[hosts.b]\n[[links]]\na = \"a\"\nb = \"b\"\ndelay = 5\n", "lab.toml:6: delay = \"5\": '5' after 'delay' is not a time")]
    [InlineData("[hosts.a]\n[hosts.b]\n[[links]]\na = \"a\"\nb = \"b\"\nrate = true\n", "lab.toml:6: rate must be a string")]
    [InlineData("[hosts.a]\n[hosts.b]\n[[links]]\na = \"a\"\nb = \"c\"\n", "lab.toml:5: b = \"c\" is not a host")]
    [InlineData("[hosts.a]\n[hosts.b]\n[[links]]\na = \"a\"\nb = \"a\"\n", "lab.toml:5: link 0 connects host a to itself")]
    [InlineData("[hosts.a]\n[hosts.b]\n[[links]]\nb = \"a\"\n", "lab.toml:4: a link has no 'a'")]
    [InlineData("[hosts.a]\n[hosts.b]\n[[links]]\na = \"a\"\nb = \"b\"\n[[links]]\na = \"b\"\nb = \"a\"\nname = \"a-b\"\n", "lab.toml:9: two links are named 'a-b'")]
    [InlineData("[hosts.a]\n[hosts.b]\n[[links]]\na = \"a\"\nb = \"b\"\nsubnet = \"10.77.1.0/31\"\n", "lab.toml:6: subnet = \"10.77.1.0/31\" is not an IPv4 network")]
    [InlineData("[hosts.a]\n[hosts.b]\n[[links]]\na = \"a\"\nb = \"b\"\n[[links]]\na = \"b\"\nb = \"a\"\nname = \"two\"\nsubnet = \"10.77.0.0/16\"\n", "lab.toml:7: link two: subnet 10.77.0.0/16 overlaps link a-b's 10.77.0.0/24")]
    [InlineData("[hosts.a]\nroutes = [\"10.0.0.0/8 through 10.77.0.2\"]\n", "lab.toml:2: route '10.0.0.0/8 through 10.77.0.2' is not 'DESTINATION via GATEWAY'")]
    [InlineData("[hosts.a]\nroutes = [\"default via 10.99.0.1\"]\n", "lab.toml:1: host a: gateway 10.99.0.1 is not on any of its links")]
    [InlineData("mtu = 40\n[hosts.a]\n", "lab.toml:1: mtu = 40 is out of range; allowed 68-65535")]
    [InlineData("seed = -1\n[hosts.a]\n", "lab.toml:1: seed = -1 is out of range")]
    [InlineData("name = \"bad name\"\n[hosts.a]\n", "lab.toml:1: name = \"bad name\" is not a valid topology name")]
    [InlineData("[hosts.\"a b\"]\n", "lab.toml:1: 'a b' is not a valid host name")]
    [InlineData("[hosts]\n", "lab.toml:1: no hosts")]
    [InlineData("[hosts.a]\n[hosts.b]\n[[links]]\na = \"a\"\nb = \"b\"\ndelay = \"10ms\"\nreorder = \"5%\"\nb_to_a = { delay = \"0ms\" }\n", "lab.toml:8: link a-b b_to_a: --reorder: reordering needs a delay")]
    public void Every_error_names_the_line_and_the_key(string text, string expected)
    {
        Assert.StartsWith(expected, ErrorOf(text), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_key_error_lists_the_allowed_keys()
    {
        var e = Assert.Throws<TunTapException>(() => Parse("[hosts.a]\n[hosts.b]\n[[links]]\na = \"a\"\nb = \"b\"\ndelya = \"5ms\"\n"));
        Assert.Contains("delay", e.Hint, StringComparison.Ordinal);
        Assert.Contains("a_to_b", e.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_without_hosts_is_refused()
    {
        Assert.StartsWith("lab.toml: no hosts", ErrorOf("seed = 1\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_trace_names_the_line_and_the_path()
    {
        var message = ErrorOf("[hosts.a]\n[hosts.b]\n[[links]]\na = \"a\"\nb = \"b\"\ntrace = \"gone.trace\"\n");
        Assert.StartsWith("lab.toml:6: trace = \"gone.trace\": cannot read trace 'gone.trace'", message, StringComparison.Ordinal);
    }

    internal static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        for (var i = 0; i < 12 && directory is not null; i++, directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "TunTap.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }
}
