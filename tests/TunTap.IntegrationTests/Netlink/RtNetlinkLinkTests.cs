using TunTap.TestKit;

namespace TunTap.IntegrationTests.Netlink;

public sealed class RtNetlinkLinkTests
{
    [Fact]
    public async Task Lists_the_same_links_as_ip_including_loopback()
    {
        await using var scope = await NetnsScope.CreateAsync("nl-list");
        var ns = scope.Names[0];
        await IpJson.RunAsync(ns, "link", "add", "d0", "type", "veth", "peer", "name", "d1");

        var links = InNamespace.Netlink(ns, c => c.GetLinks());

        Assert.Equal((await IpJson.LinkNamesAsync(ns)).Order(), links.Select(l => l.Name).Order());
        var lo = Assert.Single(links, l => l.Name == "lo");
        Assert.Equal(1, lo.Index);
        Assert.True(lo.IsUp);
        Assert.True(lo.HasCarrier);
        Assert.Equal(65536, lo.Mtu);
        Assert.Null(lo.Kind);
        Assert.Null(lo.Tun);
        var veth = Assert.Single(links, l => l.Name == "d0");
        Assert.Equal("veth", veth.Kind);
        Assert.False(veth.IsUp);
        var ip = (await IpJson.LinkAsync(ns, "d0"))!.Value;
        Assert.Equal(ip.GetProperty("ifindex").GetInt32(), veth.Index);
        Assert.Equal(ip.GetProperty("address").GetString(), FormatMac(veth.Address!.GetAddressBytes()));
    }

    [Fact]
    public async Task FindLink_returns_null_and_GetLink_names_the_missing_interface()
    {
        await using var scope = await NetnsScope.CreateAsync("nl-find");
        var ns = scope.Names[0];

        var (found, error) = InNamespace.Netlink(ns, c => (c.FindLink("nope0"), Record.Exception(() => c.GetLink("nope0"))));

        Assert.Null(found);
        var tunTap = Assert.IsAssignableFrom<TunTapException>(error);
        Assert.Equal("no interface named 'nope0'", tunTap.Message);
        Assert.Contains("ip link", tunTap.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Veth_pair_with_peer_in_another_namespace_is_created_as_ip_sees_it()
    {
        await using var scope = await NetnsScope.CreateAsync("nl-veth", 2);
        var (a, b) = (scope.Names[0], scope.Names[1]);

        InNamespace.Netlink(a, c => c.CreateVethPair("va0", "vb0", b));

        var va = (await IpJson.LinkAsync(a, "va0"))!.Value;
        Assert.Equal("veth", va.GetProperty("linkinfo").GetProperty("info_kind").GetString());
        var vb = (await IpJson.LinkAsync(b, "vb0"))!.Value;
        Assert.Equal("veth", vb.GetProperty("linkinfo").GetProperty("info_kind").GetString());
        Assert.Null(await IpJson.LinkAsync(a, "vb0"));
        var seen = InNamespace.Netlink(b, c => c.GetLink("vb0"));
        Assert.Equal("veth", seen.Kind);
        Assert.Equal(vb.GetProperty("ifindex").GetInt32(), seen.Index);
    }

    [Fact]
    public async Task Set_up_and_down_changes_the_flags_ip_reports_and_carrier_follows_the_peer()
    {
        await using var scope = await NetnsScope.CreateAsync("nl-updown");
        var ns = scope.Names[0];
        InNamespace.Netlink(ns, c => c.CreateVethPair("va1", "vb1"));

        InNamespace.Netlink(ns, c => c.SetUp("va1", true));
        Assert.Contains("UP", IpJson.Flags((await IpJson.LinkAsync(ns, "va1"))!.Value));
        var halfUp = InNamespace.Netlink(ns, c => c.GetLink("va1"));
        Assert.True(halfUp.IsUp);
        Assert.False(halfUp.HasCarrier);

        InNamespace.Netlink(ns, c => c.SetUp("vb1", true));
        await Wait.UntilAsync(() => InNamespace.Netlink(ns, c => c.GetLink("va1").HasCarrier), TimeSpan.FromSeconds(5));
        Assert.Contains("LOWER_UP", IpJson.Flags((await IpJson.LinkAsync(ns, "va1"))!.Value));

        InNamespace.Netlink(ns, c => c.SetUp("va1", false));
        Assert.DoesNotContain("UP", IpJson.Flags((await IpJson.LinkAsync(ns, "va1"))!.Value));
        Assert.False(InNamespace.Netlink(ns, c => c.GetLink("va1")).IsUp);
    }

    [Fact]
    public async Task Set_mtu_is_what_ip_reports()
    {
        await using var scope = await NetnsScope.CreateAsync("nl-mtu");
        var ns = scope.Names[0];
        InNamespace.Netlink(ns, c => c.CreateVethPair("va2", "vb2"));

        InNamespace.Netlink(ns, c => c.SetMtu("va2", 1400));

        Assert.Equal(1400, (await IpJson.LinkAsync(ns, "va2"))!.Value.GetProperty("mtu").GetInt32());
        Assert.Equal(1400, InNamespace.Netlink(ns, c => c.GetLink("va2")).Mtu);
        Assert.Equal(1500, InNamespace.Netlink(ns, c => c.GetLink("vb2")).Mtu);
    }

    [Fact]
    public async Task Set_gso_max_segs_is_what_ip_reports_and_out_of_range_counts_are_refused()
    {
        await using var scope = await NetnsScope.CreateAsync("nl-gso");
        var ns = scope.Names[0];
        InNamespace.Netlink(ns, c => c.CreateVethPair("va4", "vb4"));

        InNamespace.Netlink(ns, c => c.SetGsoMaxSegments("va4", 44));

        Assert.Equal(44, (await IpJson.LinkAsync(ns, "va4"))!.Value.GetProperty("gso_max_segs").GetInt32());
        Assert.Equal(65535, (await IpJson.LinkAsync(ns, "vb4"))!.Value.GetProperty("gso_max_segs").GetInt32());
        var zero = InNamespace.Failure(ns, c => c.SetGsoMaxSegments("va4", 0));
        Assert.Contains("out of range", zero.Message, StringComparison.Ordinal);
        Assert.Equal(44, (await IpJson.LinkAsync(ns, "va4"))!.Value.GetProperty("gso_max_segs").GetInt32());
    }

    [Fact]
    public async Task Rename_keeps_the_index_and_frees_the_old_name()
    {
        await using var scope = await NetnsScope.CreateAsync("nl-rename");
        var ns = scope.Names[0];
        InNamespace.Netlink(ns, c => c.CreateVethPair("va3", "vb3"));
        var before = InNamespace.Netlink(ns, c => c.GetLink("va3"));

        InNamespace.Netlink(ns, c => c.Rename("va3", "renamed3"));

        Assert.Null(await IpJson.LinkAsync(ns, "va3"));
        var ip = (await IpJson.LinkAsync(ns, "renamed3"))!.Value;
        Assert.Equal(before.Index, ip.GetProperty("ifindex").GetInt32());
        Assert.Null(InNamespace.Netlink(ns, c => c.FindLink("va3")));
    }

    [Fact]
    public async Task Move_to_namespace_takes_the_link_out_of_this_one()
    {
        await using var scope = await NetnsScope.CreateAsync("nl-move", 2);
        var (a, b) = (scope.Names[0], scope.Names[1]);
        InNamespace.Netlink(a, c => c.CreateVethPair("va4", "vb4"));

        InNamespace.Netlink(a, c => c.MoveToNamespace("vb4", b));

        Assert.Null(await IpJson.LinkAsync(a, "vb4"));
        Assert.NotNull(await IpJson.LinkAsync(b, "vb4"));
        Assert.NotNull(await IpJson.LinkAsync(a, "va4"));
    }

    [Fact]
    public async Task Delete_link_removes_both_ends_of_a_veth_pair()
    {
        await using var scope = await NetnsScope.CreateAsync("nl-del");
        var ns = scope.Names[0];
        InNamespace.Netlink(ns, c => c.CreateVethPair("va5", "vb5"));

        InNamespace.Netlink(ns, c => c.DeleteLink("va5"));

        var names = await IpJson.LinkNamesAsync(ns);
        Assert.DoesNotContain("va5", names);
        Assert.DoesNotContain("vb5", names);
    }

    internal static string FormatMac(byte[] mac) => string.Join(':', mac.Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
}
