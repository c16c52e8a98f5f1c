using TunTap.Netlink;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Netlink;

public sealed class RtNetlinkErrorTests
{
    [Fact]
    public async Task Adding_an_existing_address_names_EEXIST_and_says_it_exists()
    {
        await using var scope = await NetnsScope.CreateAsync("nl-eexist");
        var ns = scope.Names[0];
        var address = InterfaceAddress.Parse("10.73.0.1/24");
        InNamespace.Netlink(ns, c =>
        {
            c.CreateVethPair("va0", "vb0");
            c.AddAddress("va0", address);
        });

        var error = Assert.IsType<NetlinkException>(InNamespace.Failure(ns, c => c.AddAddress("va0", address)));

        Assert.Equal(Errno.EEXIST, error.ErrorNumber);
        Assert.Equal("add address 10.73.0.1/24 to va0", error.Operation);
        Assert.StartsWith("add address 10.73.0.1/24 to va0: the address already exists (EEXIST", error.Message, StringComparison.Ordinal);
        Assert.Contains("ip addr del", error.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Operations_on_an_unknown_interface_say_no_interface_named()
    {
        await using var scope = await NetnsScope.CreateAsync("nl-enodev");
        var ns = scope.Names[0];

        foreach (var action in new Action<RtNetlinkClient>[]
        {
            c => c.SetUp("ghost0", true),
            c => c.SetMtu("ghost0", 1400),
            c => c.DeleteLink("ghost0"),
            c => c.Rename("ghost0", "ghost1"),
            c => c.AddAddress("ghost0", InterfaceAddress.Parse("10.0.0.1/24")),
            c => c.DeleteAddress("ghost0", InterfaceAddress.Parse("10.0.0.1/24")),
            c => c.GetAddresses("ghost0"),
        })
        {
            var error = Assert.IsAssignableFrom<SystemCallException>(InNamespace.Failure(ns, action));
            Assert.Equal(Errno.ENODEV, error.ErrorNumber);
            Assert.Contains("no interface named 'ghost0'", error.Message, StringComparison.Ordinal);
            Assert.Contains("ip link", error.Hint, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_out_of_range_mtu_is_reported_with_the_device_and_the_kernel_reason()
    {
        await using var scope = await NetnsScope.CreateAsync("nl-mtuerr");
        var ns = scope.Names[0];
        InNamespace.Netlink(ns, c => c.CreateVethPair("va1", "vb1"));

        var tooBig = Assert.IsType<NetlinkException>(InNamespace.Failure(ns, c => c.SetMtu("va1", 70000)));
        var tooSmall = Assert.IsType<NetlinkException>(InNamespace.Failure(ns, c => c.SetMtu("va1", 10)));

        Assert.Equal(Errno.EINVAL, tooBig.ErrorNumber);
        Assert.Contains("MTU 70000 is out of range for va1", tooBig.Message, StringComparison.Ordinal);
        Assert.NotNull(tooBig.KernelMessage);
        Assert.Contains(tooBig.KernelMessage!, tooBig.Message, StringComparison.Ordinal);
        Assert.Contains("MTU 10 is out of range for va1", tooSmall.Message, StringComparison.Ordinal);
        Assert.Equal(1500, (await IpJson.LinkAsync(ns, "va1"))!.Value.GetProperty("mtu").GetInt32());
    }

    [Fact]
    public async Task Deleting_an_absent_address_and_clashing_names_are_explained()
    {
        await using var scope = await NetnsScope.CreateAsync("nl-misc", 2);
        var (a, b) = (scope.Names[0], scope.Names[1]);
        InNamespace.Netlink(a, c => c.CreateVethPair("va2", "vb2"));
        InNamespace.Netlink(b, c => c.CreateVethPair("vb2", "vc2"));

        var absent = Assert.IsType<NetlinkException>(InNamespace.Failure(a, c => c.DeleteAddress("va2", InterfaceAddress.Parse("10.74.0.1/24"))));
        Assert.Equal(Errno.EADDRNOTAVAIL, absent.ErrorNumber);
        Assert.Contains("va2 has no address 10.74.0.1/24", absent.Message, StringComparison.Ordinal);

        var veth = Assert.IsType<NetlinkException>(InNamespace.Failure(a, c => c.CreateVethPair("va2", "other2")));
        Assert.Equal(Errno.EEXIST, veth.ErrorNumber);
        Assert.Contains("already exists", veth.Message, StringComparison.Ordinal);

        var rename = Assert.IsType<NetlinkException>(InNamespace.Failure(a, c => c.Rename("va2", "vb2")));
        Assert.Equal(Errno.EEXIST, rename.ErrorNumber);

        var move = Assert.IsType<NetlinkException>(InNamespace.Failure(a, c => c.MoveToNamespace("vb2", b)));
        Assert.Contains($"namespace '{b}' already has an interface named 'vb2'", move.Message, StringComparison.Ordinal);

        var noNamespace = InNamespace.Failure(a, c => c.MoveToNamespace("vb2", scope.NewName()));
        Assert.Contains("does not exist", noNamespace.Message, StringComparison.Ordinal);

        var badName = InNamespace.Failure(a, c => c.SetUp("this-name-is-too-long", true));
        Assert.Contains("is not a valid interface name", badName.Message, StringComparison.Ordinal);
    }
}
