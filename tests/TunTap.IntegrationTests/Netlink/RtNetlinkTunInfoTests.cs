using TunTap.Devices;
using TunTap.Netlink;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Netlink;

public sealed class RtNetlinkTunInfoTests
{
    [Fact]
    public async Task Multi_queue_tun_with_owner_reports_its_tun_settings()
    {
        await using var scope = await NetnsScope.CreateAsync("nl-tun");
        var ns = scope.Names[0];
        await IpJson.RunAsync(ns, "tuntap", "add", "dev", "t0", "mode", "tun", "user", "1234", "multi_queue");

        var link = InNamespace.Netlink(ns, c => c.GetLink("t0"));

        Assert.Equal("tun", link.Kind);
        Assert.Null(link.Address);
        var tun = Assert.IsType<TunLinkInfo>(link.Tun);
        Assert.Equal(DeviceMode.Tun, tun.Mode);
        Assert.True(tun.Persist);
        Assert.True(tun.MultiQueue);
        Assert.False(tun.VnetHeader);
        Assert.False(tun.PacketInfo);
        Assert.Equal(1234u, tun.Owner);
        Assert.Null(tun.Group);
        Assert.Equal(0, tun.NumQueues);
        Assert.Equal(0, tun.NumDisabledQueues);
        var data = (await IpJson.LinkAsync(ns, "t0"))!.Value.GetProperty("linkinfo").GetProperty("info_data");
        Assert.Equal(data.GetProperty("multi_queue").GetBoolean(), tun.MultiQueue);
        Assert.Equal(data.GetProperty("user").GetInt32(), (int)tun.Owner!.Value);
    }

    [Fact]
    public async Task Tap_with_vnet_header_group_and_packet_info_reports_its_tun_settings()
    {
        await using var scope = await NetnsScope.CreateAsync("nl-tap");
        var ns = scope.Names[0];
        await IpJson.RunAsync(ns, "tuntap", "add", "dev", "t1", "mode", "tap", "vnet_hdr", "group", "4321", "pi");

        var link = InNamespace.Netlink(ns, c => c.GetLinks().Single(l => l.Name == "t1"));

        var tun = Assert.IsType<TunLinkInfo>(link.Tun);
        Assert.Equal(DeviceMode.Tap, tun.Mode);
        Assert.True(tun.VnetHeader);
        Assert.True(tun.PacketInfo);
        Assert.True(tun.Persist);
        Assert.False(tun.MultiQueue);
        Assert.Equal(4321u, tun.Group);
        Assert.Null(tun.Owner);
        var ip = (await IpJson.LinkAsync(ns, "t1"))!.Value;
        Assert.Equal(ip.GetProperty("address").GetString(), RtNetlinkLinkTests.FormatMac(link.Address!.GetAddressBytes()));
    }

    [Fact]
    public async Task Non_tun_links_have_no_tun_info()
    {
        await using var scope = await NetnsScope.CreateAsync("nl-notun");
        var ns = scope.Names[0];
        InNamespace.Netlink(ns, c => c.CreateVethPair("va0", "vb0"));

        var links = InNamespace.Netlink(ns, c => c.GetLinks());

        Assert.All(links, l => Assert.Null(l.Tun));
    }
}
