using System.Net;
using System.Text.Json;
using TunTap.Netlink;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Netlink;

public sealed class RtNetlinkRouteTests
{
    private static async Task<string> PreparedNamespaceAsync(NetnsScope scope)
    {
        var ns = scope.Names[0];
        InNamespace.Netlink(ns, c =>
        {
            c.CreateVethPair("va0", "vb0");
            c.AddAddress("va0", InterfaceAddress.Parse("10.72.0.1/24"));
            c.AddAddress("va0", InterfaceAddress.Parse("fd72::1/64"), noDad: true);
            c.SetUp("va0", true);
            c.SetUp("vb0", true);
        });
        return ns;
    }

    private static JsonElement? Find(JsonElement routes, string dst) =>
        routes.EnumerateArray().Cast<JsonElement?>().FirstOrDefault(r => r!.Value.GetProperty("dst").GetString() == dst);

    [Fact]
    public async Task Ipv4_routes_with_gateway_and_with_device_only_show_in_ip_route()
    {
        await using var scope = await NetnsScope.CreateAsync("nl-route4");
        var ns = await PreparedNamespaceAsync(scope);

        InNamespace.Netlink(ns, c =>
        {
            c.AddRoute(new RouteSpec(InterfaceAddress.Parse("10.80.0.0/16"), IPAddress.Parse("10.72.0.2")));
            c.AddRoute(new RouteSpec(InterfaceAddress.Parse("10.81.0.0/24"), Device: "va0", Metric: 77));
            c.AddRoute(new RouteSpec(InterfaceAddress.Parse("0.0.0.0/0"), IPAddress.Parse("10.72.0.254"), "va0"));
        });

        var routes = await IpJson.QueryAsync(ns, "route");
        var viaGateway = Find(routes, "10.80.0.0/16")!.Value;
        Assert.Equal("10.72.0.2", viaGateway.GetProperty("gateway").GetString());
        Assert.Equal("va0", viaGateway.GetProperty("dev").GetString());
        var onLink = Find(routes, "10.81.0.0/24")!.Value;
        Assert.Equal("link", onLink.GetProperty("scope").GetString());
        Assert.Equal(77, onLink.GetProperty("metric").GetInt32());
        Assert.False(onLink.TryGetProperty("gateway", out _));
        Assert.Equal("10.72.0.254", Find(routes, "default")!.Value.GetProperty("gateway").GetString());

        var listed = InNamespace.Netlink(ns, c => c.GetRoutes());
        var mine = Assert.Single(listed, r => r.Destination == InterfaceAddress.Parse("10.80.0.0/16"));
        Assert.Equal(IPAddress.Parse("10.72.0.2"), mine.Gateway);
        Assert.Equal("va0", mine.Device);
        Assert.Equal(77, Assert.Single(listed, r => r.Destination == InterfaceAddress.Parse("10.81.0.0/24")).Metric);
        Assert.Contains(listed, r => r.Destination == InterfaceAddress.Parse("0.0.0.0/0") && IPAddress.Parse("10.72.0.254").Equals(r.Gateway));
        Assert.Contains(listed, r => r.Destination == InterfaceAddress.Parse("10.72.0.0/24") && r.Gateway is null && IPAddress.Parse("10.72.0.1").Equals(r.PreferredSource));

        InNamespace.Netlink(ns, c =>
        {
            c.DeleteRoute(new RouteSpec(InterfaceAddress.Parse("10.80.0.0/16"), IPAddress.Parse("10.72.0.2")));
            c.DeleteRoute(new RouteSpec(InterfaceAddress.Parse("10.81.0.0/24"), Device: "va0", Metric: 77));
            c.DeleteRoute(new RouteSpec(InterfaceAddress.Parse("0.0.0.0/0"), Device: "va0"));
        });
        var after = await IpJson.QueryAsync(ns, "route");
        Assert.Null(Find(after, "10.80.0.0/16"));
        Assert.Null(Find(after, "10.81.0.0/24"));
        Assert.Null(Find(after, "default"));
        Assert.NotNull(Find(after, "10.72.0.0/24"));
    }

    [Fact]
    public async Task Ipv6_routes_show_in_ip_6_route_and_are_deleted()
    {
        await using var scope = await NetnsScope.CreateAsync("nl-route6");
        var ns = await PreparedNamespaceAsync(scope);

        InNamespace.Netlink(ns, c =>
        {
            c.AddRoute(new RouteSpec(InterfaceAddress.Parse("fd80::/48"), IPAddress.Parse("fd72::2"), "va0"));
            c.AddRoute(new RouteSpec(InterfaceAddress.Parse("::/0"), IPAddress.Parse("fd72::fe"), Metric: 500));
            c.AddRoute(new RouteSpec(InterfaceAddress.Parse("fd81::/64"), Device: "va0"));
        });

        var routes = await IpJson.QueryAsync(ns, "-6", "route");
        Assert.Equal("fd72::2", Find(routes, "fd80::/48")!.Value.GetProperty("gateway").GetString());
        var defaultRoute = Find(routes, "default")!.Value;
        Assert.Equal("fd72::fe", defaultRoute.GetProperty("gateway").GetString());
        Assert.Equal(500, defaultRoute.GetProperty("metric").GetInt32());
        Assert.Equal("va0", Find(routes, "fd81::/64")!.Value.GetProperty("dev").GetString());
        var listed = InNamespace.Netlink(ns, c => c.GetRoutes());
        Assert.Contains(listed, r => r.Destination == InterfaceAddress.Parse("::/0") && r.Metric == 500 && r.Device == "va0");

        InNamespace.Netlink(ns, c =>
        {
            c.DeleteRoute(new RouteSpec(InterfaceAddress.Parse("fd80::/48"), IPAddress.Parse("fd72::2"), "va0"));
            c.DeleteRoute(new RouteSpec(InterfaceAddress.Parse("::/0"), IPAddress.Parse("fd72::fe"), Metric: 500));
            c.DeleteRoute(new RouteSpec(InterfaceAddress.Parse("fd81::/64"), Device: "va0"));
        });
        var after = await IpJson.QueryAsync(ns, "-6", "route");
        Assert.Null(Find(after, "fd80::/48"));
        Assert.Null(Find(after, "default"));
        Assert.Null(Find(after, "fd81::/64"));
    }

    [Fact]
    public async Task Route_errors_name_the_problem()
    {
        await using var scope = await NetnsScope.CreateAsync("nl-routeerr");
        var ns = await PreparedNamespaceAsync(scope);
        var route = new RouteSpec(InterfaceAddress.Parse("10.90.0.0/16"), IPAddress.Parse("10.72.0.2"));
        InNamespace.Netlink(ns, c => c.AddRoute(route));

        var duplicate = Assert.IsType<NetlinkException>(InNamespace.Failure(ns, c => c.AddRoute(route)));
        Assert.Equal(Errno.EEXIST, duplicate.ErrorNumber);
        Assert.Contains("add route 10.90.0.0/16 via 10.72.0.2: the route already exists (EEXIST", duplicate.Message, StringComparison.Ordinal);

        var unreachable = Assert.IsType<NetlinkException>(InNamespace.Failure(ns, c => c.AddRoute(new RouteSpec(InterfaceAddress.Parse("10.91.0.0/16"), IPAddress.Parse("192.0.2.1")))));
        Assert.Equal(Errno.ENETUNREACH, unreachable.ErrorNumber);
        Assert.Contains("not on a connected network", unreachable.Message, StringComparison.Ordinal);

        var missing = Assert.IsType<NetlinkException>(InNamespace.Failure(ns, c => c.DeleteRoute(new RouteSpec(InterfaceAddress.Parse("10.92.0.0/16"), Device: "va0"))));
        Assert.Equal(Errno.ESRCH, missing.ErrorNumber);
        Assert.Contains("no such route", missing.Message, StringComparison.Ordinal);

        var noDevice = InNamespace.Failure(ns, c => c.AddRoute(new RouteSpec(InterfaceAddress.Parse("10.93.0.0/16"), Device: "nope0")));
        Assert.Equal("no interface named 'nope0'", noDevice.Message);

        var mixed = InNamespace.Failure(ns, c => c.AddRoute(new RouteSpec(InterfaceAddress.Parse("10.94.0.0/16"), IPAddress.Parse("fd72::2"))));
        Assert.Contains("different address families", mixed.Message, StringComparison.Ordinal);
    }
}
