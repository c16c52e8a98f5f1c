using TunTap.Devices;

namespace TunTap.Tests.Devices;

public sealed class TunDeviceOptionsValidationTests
{
    [Theory]
    [InlineData("tun0")]
    [InlineData("tun%d")]
    [InlineData("abcdefghijklmno")]
    [InlineData("tt-é")]
    public void Valid_names_pass(string name) => InterfaceName.Validate(name);

    [Theory]
    [InlineData("abcdefghijklmnop", "too long")]
    [InlineData("ééééééééé", "too long")] // 9 characters, 18 bytes
    [InlineData("", "empty")]
    [InlineData("a/b", "contains '/'")]
    [InlineData("a b", "contains ' '")]
    [InlineData("a:b", "contains ':'")]
    [InlineData("..", "not a valid")]
    [InlineData("tun%s", "'%'")]
    [InlineData("t%d%d", "'%'")]
    public void Invalid_names_are_refused_with_the_reason(string name, string reason)
    {
        var error = Assert.Throws<TunTapException>(() => InterfaceName.Validate(name));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.Hint);
    }

    [Fact]
    public void Null_name_lets_the_kernel_pick() =>
        TunDevice.Validate(new TunDeviceOptions { Mode = DeviceMode.Tun });

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(257)]
    public void Multi_queue_count_out_of_range_is_refused(int count)
    {
        var error = Assert.Throws<TunTapException>(() => TunDevice.Validate(new TunDeviceOptions { MultiQueue = true, QueueCount = count }));
        Assert.Contains("out of range", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(256)]
    public void Multi_queue_count_in_range_passes(int count) =>
        TunDevice.Validate(new TunDeviceOptions { MultiQueue = true, QueueCount = count });

    [Fact]
    public void Several_queues_need_multi_queue()
    {
        var error = Assert.Throws<TunTapException>(() => TunDevice.Validate(new TunDeviceOptions { QueueCount = 2 }));
        Assert.Contains("multi-queue", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Offloads_need_a_vnet_header()
    {
        var error = Assert.Throws<TunTapException>(() => TunDevice.Validate(new TunDeviceOptions { Offloads = TunOffloads.Checksum }));
        Assert.Contains("virtio-net header", error.Message, StringComparison.Ordinal);
        TunDevice.Validate(new TunDeviceOptions { VnetHeader = true, Offloads = TunOffloads.Checksum | TunOffloads.Uso6 });
    }

    [Fact]
    public void Unknown_offload_bits_are_refused() =>
        Assert.Throws<TunTapException>(() => TunDevice.Validate(new TunDeviceOptions { VnetHeader = true, Offloads = (TunOffloads)0x100 }));

    [Fact]
    public void Offload_and_feature_values_are_the_kernels()
    {
        // TUN_F_* from linux/if_tun.h (USO4/6 from Linux 6.2).
        Assert.Equal(0x01, (int)TunOffloads.Checksum);
        Assert.Equal(0x02, (int)TunOffloads.Tso4);
        Assert.Equal(0x04, (int)TunOffloads.Tso6);
        Assert.Equal(0x08, (int)TunOffloads.TsoEcn);
        Assert.Equal(0x10, (int)TunOffloads.Ufo);
        Assert.Equal(0x20, (int)TunOffloads.Uso4);
        Assert.Equal(0x40, (int)TunOffloads.Uso6);

        // A TUNGETFEATURES answer of a 6.x kernel decodes to the named flags.
        var features = (TunFeatures)0x7173;
        Assert.Equal(
            TunFeatures.Tun | TunFeatures.Tap | TunFeatures.Napi | TunFeatures.NapiFrags | TunFeatures.NoCarrier
            | TunFeatures.MultiQueue | TunFeatures.NoPacketInformation | TunFeatures.OneQueue | TunFeatures.VnetHeader,
            features);
        Assert.Equal("Tun, Tap, Napi, NapiFrags, NoCarrier, MultiQueue, NoPacketInformation, OneQueue, VnetHeader", features.ToString());
    }
}
