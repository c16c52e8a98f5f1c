using System.Buffers.Binary;
using TunTap.Devices;

namespace TunTap.Tests.Devices;

public sealed class InterfaceRequestTests
{
    [Fact]
    public void Ifreq_is_40_bytes_with_the_name_then_flags_at_16()
    {
        var request = new byte[64];
        request.AsSpan().Fill(0xAA);
        InterfaceRequest.Encode(request, "tun0", 0x1001);

        Assert.Equal("tun0"u8.ToArray(), request[..4]);
        Assert.All(request[4..16], b => Assert.Equal(0, b));
        Assert.Equal(0x1001, BinaryPrimitives.ReadInt16LittleEndian(request.AsSpan(16)));
        Assert.All(request[18..40], b => Assert.Equal(0, b));
        Assert.All(request[40..], b => Assert.Equal(0xAA, b));
    }

    [Fact]
    public void Fifteen_byte_name_keeps_its_terminating_nul()
    {
        var request = new byte[InterfaceRequest.Size];
        InterfaceRequest.Encode(request, "abcdefghijklmno", 1);
        Assert.Equal(0, request[15]);
        Assert.Equal("abcdefghijklmno", InterfaceRequest.DecodeName(request));
    }

    [Fact]
    public void Empty_name_encodes_as_all_zero_so_the_kernel_picks()
    {
        var request = new byte[InterfaceRequest.Size];
        InterfaceRequest.Encode(request, "", TunIoctl.IFF_DETACH_QUEUE);
        Assert.All(request[..16], b => Assert.Equal(0, b));
        Assert.Equal(TunIoctl.IFF_DETACH_QUEUE, InterfaceRequest.DecodeFlags(request));
        Assert.Equal("", InterfaceRequest.DecodeName(request));
    }

    [Fact]
    public void Name_decodes_up_to_the_nul_the_kernel_wrote()
    {
        var request = new byte[InterfaceRequest.Size];
        "tun12\0garbage"u8.CopyTo(request);
        Assert.Equal("tun12", InterfaceRequest.DecodeName(request));
    }

    [Fact]
    public void Ioctl_numbers_match_the_kernel_headers()
    {
        // Values of _IOW/_IOR('T', n, int) as the C preprocessor computes them on x86-64.
        Assert.Equal(0x400454CAu, TunIoctl.TUNSETIFF);
        Assert.Equal(0x400454CBu, TunIoctl.TUNSETPERSIST);
        Assert.Equal(0x400454CCu, TunIoctl.TUNSETOWNER);
        Assert.Equal(0x400454CEu, TunIoctl.TUNSETGROUP);
        Assert.Equal(0x800454CFu, TunIoctl.TUNGETFEATURES);
        Assert.Equal(0x400454D0u, TunIoctl.TUNSETOFFLOAD);
        Assert.Equal(0x800454D2u, TunIoctl.TUNGETIFF);
        Assert.Equal(0x400454D8u, TunIoctl.TUNSETVNETHDRSZ);
        Assert.Equal(0x400454D9u, TunIoctl.TUNSETQUEUE);
        Assert.Equal(0x400454DCu, TunIoctl.TUNSETVNETLE);
        Assert.Equal(0x400454E2u, TunIoctl.TUNSETCARRIER);
    }

    [Theory]
    [InlineData(DeviceMode.Tun, false, false, false, 0x1001)]
    [InlineData(DeviceMode.Tap, false, false, false, 0x1002)]
    [InlineData(DeviceMode.Tun, true, false, false, 0x0001)]
    [InlineData(DeviceMode.Tap, false, true, true, 0x5102)]
    public void Options_map_to_ifr_flags(DeviceMode mode, bool packetInformation, bool vnet, bool multiQueue, int expected)
    {
        var options = new TunDeviceOptions { Mode = mode, PacketInformation = packetInformation, VnetHeader = vnet, MultiQueue = multiQueue };
        Assert.Equal(expected, TunDevice.InterfaceFlags(options));
    }
}
