using CsCheck;
using TunTap.Devices;

namespace TunTap.Tests.Devices;

public sealed class VirtioNetHeaderTests
{
    [Fact]
    public void Header_round_trips_through_its_10_bytes()
    {
        Gen.Select(Gen.Byte, Gen.Byte, Gen.UShort, Gen.UShort, Gen.UShort, Gen.UShort)
            .Select(t => new VirtioNetHeader((VirtioNetHeaderFlags)t.Item1, (VirtioGsoType)t.Item2, t.Item3, t.Item4, t.Item5, t.Item6))
            .Sample(header =>
            {
                var bytes = new byte[VirtioNetHeader.Size];
                header.Write(bytes);
                Assert.True(VirtioNetHeader.TryCreate(bytes, out var read));
                Assert.Equal(header, read);
            });
    }

    [Fact]
    public void Fields_are_little_endian_at_the_kernels_offsets()
    {
        // A TSO packet as the kernel hands it: NEEDS_CSUM, TCPV4, hdr_len 54, gso_size 1448,
        // csum_start 34, csum_offset 16.
        byte[] bytes = [0x01, 0x01, 0x36, 0x00, 0xA8, 0x05, 0x22, 0x00, 0x10, 0x00];
        Assert.True(VirtioNetHeader.TryCreate(bytes, out var header));
        Assert.Equal(new VirtioNetHeader(VirtioNetHeaderFlags.NeedsChecksum, VirtioGsoType.TcpV4, 54, 1448, 34, 16), header);
    }

    [Fact]
    public void Short_input_is_refused()
    {
        Assert.False(VirtioNetHeader.TryCreate(new byte[9], out _));
        Assert.Throws<ArgumentException>(() => VirtioNetHeader.None.Write(new byte[9]));
    }

    [Fact]
    public void None_is_all_zero()
    {
        var bytes = new byte[VirtioNetHeader.Size];
        bytes.AsSpan().Fill(0xff);
        VirtioNetHeader.None.Write(bytes);
        Assert.All(bytes, b => Assert.Equal(0, b));
    }
}
