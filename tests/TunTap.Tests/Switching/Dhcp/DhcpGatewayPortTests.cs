using Microsoft.Extensions.Time.Testing;
using TunTap.Devices;
using TunTap.Switching;
using TunTap.Switching.Dhcp;
using TunTap.TestKit;
using TunTap.Wire;
using static TunTap.Tests.Switching.Dhcp.DhcpFrames;

namespace TunTap.Tests.Switching.Dhcp;

public sealed class DhcpGatewayPortTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Gateway_port_with_dhcp_offers_through_the_switch_and_still_answers_arp()
    {
        var host = new ChannelTun("host", DeviceMode.Tap);
        var gatewayMac = GatewayPort.MacFor("sw-dhcp");
        var dhcp = new DhcpServer(new DhcpServerOptions { Gateway = InterfaceAddress.Parse("10.96.0.1/24"), ServerMac = gatewayMac, Range = new DhcpRange(Ip("10.96.0.100"), Ip("10.96.0.120")) }, new FakeTimeProvider());
        var gateway = new GatewayPort([InterfaceAddress.Parse("10.96.0.1/24")], gatewayMac) { Dhcp = dhcp };
        await using var runner = new SwitchRunner(new LearningSwitch());
        runner.AddPort(new TapPort(host), new SwitchPortConfig { Name = "host" });
        runner.AddPort(gateway, new SwitchPortConfig { Name = gateway.Name });

        host.Inject(Client(DhcpMessageType.Discover, Mac(1)));
        var offer = Parse(await host.ReadWrittenAsync(Timeout));
        Assert.Equal(DhcpMessageType.Offer, offer.Type);
        Assert.Equal(Ip("10.96.0.100"), offer.YourAddress);
        Assert.Equal(gatewayMac, offer.EthernetSource);

        host.Inject(Client(DhcpMessageType.Request, Mac(1), requested: offer.YourAddress, serverId: Ip("10.96.0.1")));
        Assert.Equal(DhcpMessageType.Ack, Parse(await host.ReadWrittenAsync(Timeout)).Type);

        var arp = new byte[14 + 28];
        EthernetFrame.WriteHeader(arp, MacAddress.Broadcast, Mac(1), EtherType.Arp);
        ArpPacket.Write(arp.AsSpan(14), ArpOperation.Request, Mac(1), Ip("10.96.0.100"), default, Ip("10.96.0.1"));
        host.Inject(arp);
        var answer = await host.ReadWrittenAsync(Timeout);
        Assert.True(EthernetFrame.TryCreate((ReadOnlySpan<byte>)answer, out var frame));
        Assert.Equal(EtherType.Arp, frame.EtherType);

        var rows = new List<(string Label, long Value)>();
        gateway.ReadCounters(rows);
        Assert.Contains(("dhcp-offers", 1L), rows);
        Assert.Contains(("dhcp-acks", 1L), rows);
        Assert.Contains(("dhcp-dropped", 0L), rows);
    }
}
