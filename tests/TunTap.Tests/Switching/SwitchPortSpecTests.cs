using System.Net;
using TunTap.Switching;

namespace TunTap.Tests.Switching;

public sealed class SwitchPortSpecTests
{
    [Fact]
    public void Tap_specs_name_the_interface_and_optionally_a_namespace()
    {
        var plain = SwitchPortSpec.Parse("tap:vm0");
        Assert.Equal(SwitchPortKind.Tap, plain.Kind);
        Assert.Equal("vm0", plain.InterfaceName);
        Assert.Null(plain.Netns);
        Assert.Equal("access:1", plain.Vlan.ToString());

        var inNs = SwitchPortSpec.Parse("tap:sw1@red,vlan=10,mac-limit=50");
        Assert.Equal("sw1", inNs.InterfaceName);
        Assert.Equal("red", inNs.Netns);
        Assert.Equal("access:10", inNs.Vlan.ToString());
        Assert.Equal(50, inNs.MacLimit);
    }

    [Fact]
    public void Qemu_specs_give_a_unix_path_or_a_tcp_listen_address()
    {
        Assert.Equal("/run/vm0.sock", SwitchPortSpec.Parse("qemu:unix:/run/vm0.sock").Path);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 5000), SwitchPortSpec.Parse("qemu:tcp:5000").Endpoint);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 5001), SwitchPortSpec.Parse("qemu:tcp:127.0.0.1:5001").Endpoint);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 5002), SwitchPortSpec.Parse("qemu:tcp:[::1]:5002").Endpoint);
    }

    [Fact]
    public void Trunk_lists_take_ids_ranges_and_a_native_vlan()
    {
        var spec = SwitchPortSpec.Parse("qemu:tcp:6000,trunk=10,20-22,30,native=1");
        Assert.Equal(VlanMode.Trunk, spec.Vlan.Mode);
        Assert.Equal([10, 20, 21, 22, 30], spec.Vlan.TaggedVlans);
        Assert.Equal((ushort)1, spec.Vlan.UntaggedVlan);
    }

    [Fact]
    public void Vxlan_specs_give_a_remote_a_vni_and_optionally_a_port_namespace_and_local_address()
    {
        var plain = SwitchPortSpec.Parse("vxlan:10.1.0.2,vni=42");
        Assert.Equal(SwitchPortKind.Vxlan, plain.Kind);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.1.0.2"), 4789), plain.Endpoint);
        Assert.Equal(42u, plain.Vni);
        Assert.Null(plain.Local);
        Assert.Null(plain.Netns);

        var full = SwitchPortSpec.Parse("vxlan:10.1.0.2:8472@under,vni=16777215,local=10.1.0.1:9000,vlan=7");
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.1.0.2"), 8472), full.Endpoint);
        Assert.Equal("under", full.Netns);
        Assert.Equal(16777215u, full.Vni);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.1.0.1"), 9000), full.Local);
        Assert.Equal("access:7", full.Vlan.ToString());

        Assert.Equal(new IPEndPoint(IPAddress.Parse("fd00::2"), 4789), SwitchPortSpec.Parse("vxlan:fd00::2,vni=1").Endpoint);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("fd00::2"), 4790), SwitchPortSpec.Parse("vxlan:[fd00::2]:4790,vni=1").Endpoint);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 5555), SwitchPortSpec.Parse("vxlan:10.0.0.1,vni=1,local=5555").Local);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.0.0.9"), 4789), SwitchPortSpec.Parse("vxlan:10.0.0.1,vni=1,local=10.0.0.9").Local);
        Assert.Equal(3u, SwitchPortSpec.Parse("vxlan:10.0.0.1,trunk=10,20,vni=3").Vni);
    }

    [Theory]
    [InlineData("vxlan:10.0.0.1", "needs ,vni=N")]
    [InlineData("vxlan:10.0.0.1,vni=16777216", "is not a VXLAN network id")]
    [InlineData("vxlan:10.0.0.1,vni=x", "is not a VXLAN network id")]
    [InlineData("vxlan:host,vni=1", "is not REMOTE, REMOTE:PORT")]
    [InlineData("vxlan:1234,vni=1", "is not REMOTE, REMOTE:PORT")]
    [InlineData("vxlan:10.0.0.1@,vni=1", "is not REMOTE, REMOTE:PORT")]
    [InlineData("vxlan:10.0.0.1:0,vni=1", "is not REMOTE, REMOTE:PORT")]
    [InlineData("vxlan:10.0.0.1,vni=1,local=nowhere", "is not ADDR:PORT, ADDR or PORT")]
    [InlineData("vxlan:10.0.0.1,vni=1,local=[::1]:5", "different address families")]
    [InlineData("tap:a,vni=1", "belong to vxlan: ports")]
    public void Bad_vxlan_specs_are_errors_that_say_what_is_wrong(string text, string expected)
    {
        Assert.False(SwitchPortSpec.TryParse(text, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("eth0", "allowed: tap:IFNAME[@NETNS], qemu:unix:PATH, qemu:tcp:[ADDR:]PORT")]
    [InlineData("tap:", "interface name of 1-15 characters")]
    [InlineData("tap:averyveryverylongname", "interface name of 1-15 characters")]
    [InlineData("tap:x@", "interface name of 1-15 characters")]
    [InlineData("qemu:unix:", "needs a socket path")]
    [InlineData("qemu:tcp:host:99", "is not PORT, ADDR:PORT or [IPV6]:PORT")]
    [InlineData("qemu:tcp:70000", "is not PORT, ADDR:PORT or [IPV6]:PORT")]
    [InlineData("qemu:udp:5000", "allowed: tap:IFNAME[@NETNS]")]
    [InlineData("tap:a,vlan=4095", "is not a VLAN id")]
    [InlineData("tap:a,vlan=10,trunk=20", "not both")]
    [InlineData("tap:a,native=1", "belongs to a trunk")]
    [InlineData("tap:a,speed=10", "unknown option 'speed'")]
    [InlineData("tap:a,10", "is not KEY=VALUE")]
    [InlineData("tap:a,trunk=30-20", "is not a VLAN id or range")]
    public void Bad_specs_are_errors_that_say_what_is_allowed(string text, string expected)
    {
        Assert.False(SwitchPortSpec.TryParse(text, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
        var exception = Assert.Throws<TunTapException>(() => SwitchPortSpec.Parse(text));
        Assert.Contains("tap:IFNAME[@NETNS]", exception.Hint, StringComparison.Ordinal);
    }
}
