using TunTap.Netlink;
using System.Text.RegularExpressions;
using TunTap.Devices;
using TunTap.TestKit;
using static TunTap.IntegrationTests.Devices.DeviceFixture;

namespace TunTap.IntegrationTests.Devices;

public sealed class TunDeviceLifecycleTests
{
    [Theory]
    [InlineData(DeviceMode.Tun, "tun")]
    [InlineData(DeviceMode.Tap, "tap")]
    public async Task Create_makes_a_device_of_the_mode_that_disappears_on_dispose(DeviceMode mode, string type)
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("dev");
        var ns = scope.Names[0];
        var device = CreateIn(ns, new TunDeviceOptions { Name = "tt-dev0", Mode = mode });
        try
        {
            Assert.Equal("tt-dev0", device.Name);
            Assert.Equal(mode, device.Mode);
            Assert.Single(device.Queues);
            var link = await LinkProbe.RequireAsync(ns, "tt-dev0");
            Assert.Equal("tun", link.Kind);
            Assert.Equal(type, link.Type);
            Assert.False(link.Bool("pi"));
            Assert.False(link.Bool("vnet_hdr"));
            Assert.False(link.Bool("multi_queue"));
            Assert.False(link.Bool("persist"));
        }
        finally
        {
            await device.DisposeAsync();
        }

        Assert.Null(await LinkProbe.ShowAsync(ns, "tt-dev0"));
    }

    [Fact]
    public async Task Kernel_picks_the_number_in_a_template_name()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("dev");
        var ns = scope.Names[0];
        await using var first = CreateIn(ns, new TunDeviceOptions { Name = "tt%d", Mode = DeviceMode.Tun });
        await using var second = CreateIn(ns, new TunDeviceOptions { Name = "tt%d", Mode = DeviceMode.Tap });
        Assert.Matches(new Regex("^tt[0-9]+$"), first.Name);
        Assert.Matches(new Regex("^tt[0-9]+$"), second.Name);
        Assert.NotEqual(first.Name, second.Name);
        Assert.Equal("tun", (await LinkProbe.RequireAsync(ns, first.Name)).Type);
        Assert.Equal("tap", (await LinkProbe.RequireAsync(ns, second.Name)).Type);
    }

    [Fact]
    public async Task Kernel_picks_the_name_when_none_is_given()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("dev");
        var ns = scope.Names[0];
        await using var device = CreateIn(ns, new TunDeviceOptions { Mode = DeviceMode.Tap });
        Assert.Matches(new Regex("^tap[0-9]+$"), device.Name);
        Assert.NotNull(await LinkProbe.ShowAsync(ns, device.Name));
    }

    [Fact]
    public async Task Persistent_device_outlives_its_descriptors_until_persist_is_cleared()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("dev");
        var ns = scope.Names[0];
        var options = new TunDeviceOptions { Name = "tt-keep", Mode = DeviceMode.Tun, Persist = true };
        await (CreateIn(ns, options)).DisposeAsync();
        var link = await LinkProbe.RequireAsync(ns, "tt-keep");
        Assert.True(link.Bool("persist"));

        // Attaching again without Persist leaves the flag alone.
        var attached = CreateIn(ns, options with { Persist = false });
        await attached.DisposeAsync();
        Assert.NotNull(await LinkProbe.ShowAsync(ns, "tt-keep"));

        attached = CreateIn(ns, options with { Persist = false });
        attached.SetPersist(false);
        Assert.False((await LinkProbe.RequireAsync(ns, "tt-keep")).Bool("persist"));
        await attached.DisposeAsync();
        Assert.Null(await LinkProbe.ShowAsync(ns, "tt-keep"));
    }

    [Fact]
    public async Task Owner_and_group_are_set_on_the_device()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("dev");
        var ns = scope.Names[0];
        await using var device = CreateIn(ns, new TunDeviceOptions { Name = "tt-own", Mode = DeviceMode.Tap, Owner = 54321, Group = 43210 });
        var link = await LinkProbe.RequireAsync(ns, "tt-own");
        Assert.Equal("54321", link.Text("user"));
        Assert.Equal("43210", link.Text("group"));
    }

    [Fact]
    public async Task Multi_queue_device_opens_each_queue_and_detaches_and_reattaches_one()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("dev");
        var ns = scope.Names[0];
        await using var device = CreateIn(ns, new TunDeviceOptions { Name = "tt-mq", Mode = DeviceMode.Tap, MultiQueue = true, QueueCount = 3 });
        Assert.Equal(3, device.Queues.Count);
        Assert.All(device.Queues, q => Assert.Equal("tt-mq", q.Name));
        var link = await LinkProbe.RequireAsync(ns, "tt-mq");
        Assert.True(link.Bool("multi_queue"));
        Assert.Equal(3, link.Int("numqueues"));
        Assert.Equal(0, link.Int("numdisabled"));

        device.Queues[1].Detach();
        Assert.False(device.Queues[1].IsAttached);
        link = await LinkProbe.RequireAsync(ns, "tt-mq");
        Assert.Equal(2, link.Int("numqueues"));
        Assert.Equal(1, link.Int("numdisabled"));

        device.Queues[1].Attach();
        Assert.True(device.Queues[1].IsAttached);
        link = await LinkProbe.RequireAsync(ns, "tt-mq");
        Assert.Equal(3, link.Int("numqueues"));
        Assert.Equal(0, link.Int("numdisabled"));
    }

    [Fact]
    public async Task Reading_a_detached_queue_is_a_clear_error()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("dev");
        var ns = scope.Names[0];
        await using var device = CreateIn(ns, new TunDeviceOptions { Name = "tt-mq", Mode = DeviceMode.Tun, MultiQueue = true, QueueCount = 2 });
        device.Queues[1].Detach();
        using var batch = new Buffers.PacketBatch(4, 2048);
        var error = await Assert.ThrowsAsync<TunTapException>(async () => await device.Queues[1].ReadBatchAsync(batch, TestContext.Current.CancellationToken));
        Assert.Contains("detached", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Single_queue_device_cannot_detach()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("dev");
        await using var device = CreateIn(scope.Names[0], new TunDeviceOptions { Name = "tt-sq", Mode = DeviceMode.Tun });
        var error = Assert.Throws<TunTapException>(() => device.Queues[0].Detach());
        Assert.Contains("not a multi-queue device", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Vnet_header_device_accepts_offloads()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("dev");
        var ns = scope.Names[0];
        var offloads = TunOffloads.Checksum | TunOffloads.Tso4 | TunOffloads.Tso6 | TunOffloads.TsoEcn;
        await using var device = CreateIn(ns, new TunDeviceOptions { Name = "tt-vnet", Mode = DeviceMode.Tun, VnetHeader = true, Offloads = offloads });
        Assert.True(device.VnetHeader);
        Assert.True((await LinkProbe.RequireAsync(ns, "tt-vnet")).Bool("vnet_hdr"));

        Assert.False((await LinkProbe.RequireAsync(ns, "tt-vnet")).Bool("pi"));
    }

    [Fact]
    public async Task Packet_information_flag_is_kept_when_asked()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("dev");
        var ns = scope.Names[0];
        await using var device = CreateIn(ns, new TunDeviceOptions { Name = "tt-pi", Mode = DeviceMode.Tun, PacketInformation = true });
        Assert.True((await LinkProbe.RequireAsync(ns, "tt-pi")).Bool("pi"));
    }

    [Fact]
    public async Task Carrier_off_shows_as_no_carrier_until_turned_on()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("dev");
        var ns = scope.Names[0];
        await using var device = CreateIn(ns, new TunDeviceOptions { Name = "tt-car", Mode = DeviceMode.Tap, Carrier = false });
        await IpAsync(ns, "link", "set", "tt-car", "up");
        Assert.Contains("NO-CARRIER", (await LinkProbe.RequireAsync(ns, "tt-car")).Flags);

        device.SetCarrier(true);
        Assert.DoesNotContain("NO-CARRIER", (await LinkProbe.RequireAsync(ns, "tt-car")).Flags);

        device.SetCarrier(false);
        Assert.Contains("NO-CARRIER", (await LinkProbe.RequireAsync(ns, "tt-car")).Flags);
    }

    [Fact]
    public async Task Features_include_the_modes_and_flags_we_use()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("dev");
        var features = NetworkNamespace.Run(scope.Names[0], TunDevice.GetFeatures);
        var expected = TunFeatures.Tun | TunFeatures.Tap | TunFeatures.NoPacketInformation | TunFeatures.MultiQueue | TunFeatures.VnetHeader;
        Assert.Equal(expected, features & expected);
    }

    [Fact]
    public async Task Name_taken_by_a_veth_is_a_clear_error()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("dev");
        var ns = scope.Names[0];
        await IpAsync(ns, "link", "add", "tt-taken", "type", "veth", "peer", "name", "tt-peer");
        var error = Assert.Throws<TunTapException>(() => CreateIn(ns, new TunDeviceOptions { Name = "tt-taken", Mode = DeviceMode.Tun }));
        Assert.Contains("interface 'tt-taken' exists and is not a tun device", error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.Hint);
        Assert.Equal("veth", (await LinkProbe.RequireAsync(ns, "tt-taken")).Kind);
    }

    [Fact]
    public async Task Name_taken_by_a_device_of_the_other_mode_is_a_clear_error()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("dev");
        var ns = scope.Names[0];
        await using var tun = CreateIn(ns, new TunDeviceOptions { Name = "tt-mode", Mode = DeviceMode.Tun, Persist = true });
        var error = Assert.Throws<TunTapException>(() => CreateIn(ns, new TunDeviceOptions { Name = "tt-mode", Mode = DeviceMode.Tap }));
        Assert.Contains("exists and is not a tap device", error.Message, StringComparison.Ordinal);
        tun.SetPersist(false);
    }

    [Fact]
    public async Task Name_too_long_fails_before_touching_the_kernel()
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("dev");
        var error = Assert.Throws<TunTapException>(() => CreateIn(scope.Names[0], new TunDeviceOptions { Name = "tt-much-too-long-name", Mode = DeviceMode.Tun }));
        Assert.Contains("too long", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(257)]
    public async Task Queue_count_out_of_range_is_refused(int count)
    {
        Requires.Root();
        await using var scope = await NetnsScope.CreateAsync("dev");
        var error = Assert.Throws<TunTapException>(() => CreateIn(scope.Names[0], new TunDeviceOptions { Name = "tt-q", Mode = DeviceMode.Tun, MultiQueue = true, QueueCount = count }));
        Assert.Contains("out of range", error.Message, StringComparison.Ordinal);
        Assert.Null(await LinkProbe.ShowAsync(scope.Names[0], "tt-q"));
    }
}
