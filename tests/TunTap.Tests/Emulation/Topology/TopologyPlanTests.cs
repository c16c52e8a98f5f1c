using System.Net;
using TunTap.Emulation.Topology;
using TunTap.Netlink;

namespace TunTap.Tests.Emulation.Topology;

public sealed class TopologyPlanTests
{
    private static TopologyPlan Plan(string text) => TopologyPlan.Create(TopologyParser.Parse(text, "lab.toml"));

    private static string Describe(RouteSpec route) => $"{route.Destination} via {route.Gateway} dev {route.Device}";

    [Fact]
    public void Dumbbell_hosts_reach_every_subnet_through_their_router()
    {
        var plan = TopologyPlan.Create(TopologyParser.ParseFile(Path.Combine(TopologyParserTests.RepositoryRoot(), "examples", "dumbbell.toml"), "x"));

        Assert.Equal(["x-s1", "x-s2", "x-r1", "x-r2", "x-d1", "x-d2"], plan.Namespaces());
        Assert.Equal(
            ["10.77.1.0/24 via 10.77.0.2 dev emu0", "10.77.2.0/24 via 10.77.0.2 dev emu0", "10.77.3.0/24 via 10.77.0.2 dev emu0", "10.77.4.0/24 via 10.77.0.2 dev emu0"],
            plan.Routes["s1"].Select(Describe));

        // r1 reaches its own links directly and the far side through the bottleneck.
        Assert.Equal(["10.77.3.0/24 via 10.77.2.2 dev emu2", "10.77.4.0/24 via 10.77.2.2 dev emu2"], plan.Routes["r1"].Select(Describe));
        Assert.Equal(4, plan.Routes["d1"].Count);
        Assert.All(plan.Routes["d1"], route => Assert.Equal(IPAddress.Parse("10.77.4.1"), route.Gateway));
    }

    [Fact]
    public void A_host_that_is_not_a_router_is_reached_but_passes_nothing_on()
    {
        var plan = Plan("""
            [hosts.a]
            [hosts.b]
            [hosts.c]
            [hosts.d]
            [[links]]
            a = "a"
            b = "b"
            [[links]]
            a = "b"
            b = "c"
            [[links]]
            a = "c"
            b = "d"
            """);

        // a reaches b's address on b-c (b answers for all its addresses), but nothing past b.
        Assert.Equal(["10.77.1.0/24 via 10.77.0.2 dev emu0"], plan.Routes["a"].Select(Describe));
        Assert.Equal(["10.77.1.0/24 via 10.77.2.1 dev emu2"], plan.Routes["d"].Select(Describe));
    }

    [Fact]
    public void Routes_the_file_gives_come_after_the_automatic_ones_and_replace_the_same_destination()
    {
        var plan = Plan("""
            [hosts.a]
            routes = ["10.77.1.0/24 via 10.77.0.2", "default via 10.77.0.2"]
            [hosts.r]
            router = true
            [hosts.c]
            [[links]]
            a = "a"
            b = "r"
            [[links]]
            a = "r"
            b = "c"
            """);

        Assert.Equal(["10.77.1.0/24 via 10.77.0.2 dev emu0", "0.0.0.0/0 via 10.77.0.2 dev emu0"], plan.Routes["a"].Select(Describe));
    }

    [Fact]
    public void The_shorter_path_wins_when_a_ring_offers_two()
    {
        var plan = Plan("""
            [hosts.h]
            [hosts.r1]
            router = true
            [hosts.r2]
            router = true
            [hosts.r3]
            router = true
            [[links]]
            a = "h"
            b = "r1"
            [[links]]
            a = "r1"
            b = "r2"
            [[links]]
            a = "r2"
            b = "r3"
            [[links]]
            a = "r3"
            b = "h"
            """);

        // 10.77.1.0/24 (r1-r2) is one router away through r1; 10.77.2.0/24 (r2-r3) one away through r3.
        Assert.Equal(["10.77.1.0/24 via 10.77.0.2 dev emu0", "10.77.2.0/24 via 10.77.3.1 dev emu3"], plan.Routes["h"].Select(Describe));
    }
}
