using TunTap.TestKit;

namespace TunTap.IntegrationTests.Netlink;

public sealed class RtNetlinkAddressTests
{
    private static readonly InterfaceAddress V4 = InterfaceAddress.Parse("10.71.0.1/24");
    private static readonly InterfaceAddress V6 = InterfaceAddress.Parse("fd71::1/64");

    [Fact]
    public async Task Added_ipv4_and_ipv6_addresses_show_in_ip_and_are_listed_back()
    {
        await using var scope = await NetnsScope.CreateAsync("nl-addr");
        var ns = scope.Names[0];
        InNamespace.Netlink(ns, c => c.CreateVethPair("va0", "vb0"));

        InNamespace.Netlink(ns, c =>
        {
            c.AddAddress("va0", V4);
            c.AddAddress("va0", V6, noDad: true);
        });

        var ip = await IpJson.AddressesAsync(ns, "va0");
        Assert.Contains("10.71.0.1/24", ip);
        Assert.Contains("fd71::1/64", ip);
        var ipv6 = (await IpJson.QueryAsync(ns, "-6", "addr", "show", "dev", "va0")).EnumerateArray().Single()
            .GetProperty("addr_info").EnumerateArray().Single(a => a.GetProperty("local").GetString() == "fd71::1");
        Assert.True(ipv6.GetProperty("nodad").GetBoolean());

        var (mine, all, index) = InNamespace.Netlink(ns, c => (c.GetAddresses("va0"), c.GetAddresses(), c.GetLink("va0").Index));
        Assert.Equal([V4, V6], mine.Select(a => a.Address).Where(a => a == V4 || a == V6).Order(new ByText()));
        Assert.All(mine, a => Assert.Equal(index, a.InterfaceIndex));
        Assert.Contains(all, a => a.Address == InterfaceAddress.Parse("127.0.0.1/8") && a.InterfaceIndex == 1);
        Assert.Contains(all, a => a.Address == V4 && a.InterfaceIndex == index);
    }

    [Fact]
    public async Task Deleted_addresses_are_gone_from_ip()
    {
        await using var scope = await NetnsScope.CreateAsync("nl-addrdel");
        var ns = scope.Names[0];
        InNamespace.Netlink(ns, c => c.CreateVethPair("va1", "vb1"));
        await IpJson.RunAsync(ns, "addr", "add", "10.71.0.1/24", "dev", "va1");
        await IpJson.RunAsync(ns, "addr", "add", "10.71.1.1/24", "dev", "va1");
        await IpJson.RunAsync(ns, "addr", "add", "fd71::1/64", "dev", "va1", "nodad");

        InNamespace.Netlink(ns, c =>
        {
            c.DeleteAddress("va1", V4);
            c.DeleteAddress("va1", V6);
        });

        var ip = await IpJson.AddressesAsync(ns, "va1");
        Assert.DoesNotContain("10.71.0.1/24", ip);
        Assert.DoesNotContain("fd71::1/64", ip);
        Assert.Contains("10.71.1.1/24", ip);
        Assert.DoesNotContain(InNamespace.Netlink(ns, c => c.GetAddresses("va1")), a => a.Address == V4 || a.Address == V6);
    }

    private sealed class ByText : IComparer<InterfaceAddress>
    {
        public int Compare(InterfaceAddress x, InterfaceAddress y) => string.CompareOrdinal(x.ToString(), y.ToString());
    }
}
