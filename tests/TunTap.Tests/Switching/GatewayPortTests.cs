using System.Buffers.Binary;
using System.Net;
using TunTap.Devices;
using TunTap.Switching;
using TunTap.TestKit;
using TunTap.Wire;
using static TunTap.Tests.Switching.SwitchFrames;

namespace TunTap.Tests.Switching;

public sealed class GatewayPortTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Gateway_port_answers_arp_for_its_address_only_through_the_switch()
    {
        var host = new ChannelTun("host", DeviceMode.Tap);
        var gatewayMac = GatewayPort.MacFor("sw0");
        var gateway = new GatewayPort([InterfaceAddress.Parse("10.95.0.1/24")], gatewayMac);
        await using var runner = new SwitchRunner(new LearningSwitch());
        runner.AddPort(new TapPort(host), new SwitchPortConfig { Name = "host" });
        runner.AddPort(gateway, new SwitchPortConfig { Name = gateway.Name });

        // For another address of the subnet: no answer.
        host.Inject(ArpRequest(Mac(1), "10.95.0.2", "10.95.0.3"));
        host.Inject(ArpRequest(Mac(1), "10.95.0.2", "10.95.0.1"));
        var reply = await host.ReadWrittenAsync(Timeout);
        Assert.True(EthernetFrame.TryCreate((ReadOnlySpan<byte>)reply, out var frame));
        Assert.Equal(Mac(1), frame.Destination);
        Assert.Equal(gatewayMac, frame.Source);
        Assert.True(ArpPacket.TryCreate(frame.ReadOnlyPayload, out var arp));
        Assert.Equal(ArpOperation.Reply, arp.Operation);
        Assert.Equal(Ipv4("10.95.0.1"), arp.SenderProtocolAddress);
        Assert.Equal(gatewayMac, arp.SenderHardwareAddress);
        await Wait.UntilAsync(() => gateway.Counters.Received == 2, Timeout);
        Assert.Equal(1, gateway.Counters.Replied);
        Assert.False(host.Written.TryRead(out _));
        Assert.Equal("gateway:10.95.0.1/24", gateway.Name);
    }

    [Fact]
    public void Gateway_mac_is_stable_per_switch_name_and_locally_administered()
    {
        Assert.Equal(GatewayPort.MacFor("a"), GatewayPort.MacFor("a"));
        Assert.NotEqual(GatewayPort.MacFor("a"), GatewayPort.MacFor("b"));
        Assert.StartsWith("02:", GatewayPort.MacFor("a").ToString(), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new GatewayPort([], Mac(1)));
        Assert.Throws<ArgumentException>(() => new GatewayPort([InterfaceAddress.Parse("10.0.0.1/24")], MacAddress.Broadcast));
    }

    private static uint Ipv4(string text) => BinaryPrimitives.ReadUInt32BigEndian(IPAddress.Parse(text).GetAddressBytes());

    private static byte[] ArpRequest(MacAddress sender, string senderIp, string targetIp)
    {
        var frame = new byte[14 + 28];
        EthernetFrame.WriteHeader(frame, MacAddress.Broadcast, sender, EtherType.Arp);
        ArpPacket.Write(frame.AsSpan(14), ArpOperation.Request, sender, Ipv4(senderIp), default, Ipv4(targetIp));
        return frame;
    }
}
