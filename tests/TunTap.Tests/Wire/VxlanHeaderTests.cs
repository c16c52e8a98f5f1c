using TunTap.Wire;

namespace TunTap.Tests.Wire;

public sealed class VxlanHeaderTests
{
    // The first 8 bytes of a UDP payload the Linux vxlan driver sent for "id 42", then the start of the inner frame.
    private static readonly byte[] LinuxVni42 = [0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

    [Fact]
    public void Vxlan_view_reads_the_vni_and_payload_of_a_linux_header()
    {
        Assert.True(VxlanHeader.TryCreate((ReadOnlySpan<byte>)LinuxVni42, out var header));
        Assert.True(header.HasVni);
        Assert.Equal(42u, header.Vni);
        Assert.Equal(6, header.ReadOnlyPayload.Length);
        Assert.Equal(0xff, header.ReadOnlyPayload[0]);
    }

    [Fact]
    public void Vxlan_write_sets_the_i_flag_the_vni_and_zero_reserved_bits()
    {
        var buffer = new byte[10];
        buffer.AsSpan().Fill(0xAA);
        var header = VxlanHeader.Write(buffer, 42);
        Assert.Equal(LinuxVni42[..8], buffer[..8]);
        Assert.Equal(0xAA, buffer[8]);
        Assert.Equal(42u, header.Vni);

        VxlanHeader.Write(buffer, VxlanHeader.MaxVni);
        Assert.Equal(new byte[] { 0x08, 0, 0, 0, 0xff, 0xff, 0xff, 0 }, buffer[..8]);
    }

    [Fact]
    public void Vxlan_vni_setter_keeps_the_reserved_byte_and_rejects_more_than_24_bits()
    {
        var buffer = new byte[8];
        buffer[7] = 0x5A;
        buffer[0] = VxlanHeader.VniValidFlag;
        Assert.True(VxlanHeader.TryCreate(buffer.AsSpan(), out var header));
        header.Vni = 0x123456;
        Assert.Equal(0x123456u, header.Vni);
        Assert.Equal(0x5A, buffer[7]);
        Assert.Throws<ArgumentOutOfRangeException>(() => VxlanHeader.Write(new byte[8], 0x1000000));
        Assert.Throws<ArgumentException>(() => VxlanHeader.Write(new byte[7], 1));
    }

    [Fact]
    public void Vxlan_view_rejects_truncated_headers_and_a_clear_i_flag()
    {
        Assert.Equal(WireError.Truncated, VxlanHeader.Validate(LinuxVni42.AsSpan(0, 7)));
        Assert.Equal(WireError.Truncated, VxlanHeader.Validate([]));
        var noFlag = (byte[])LinuxVni42.Clone();
        noFlag[0] = 0x80;
        Assert.Equal(WireError.Malformed, VxlanHeader.Validate(noFlag));
        Assert.False(VxlanHeader.TryCreate((ReadOnlySpan<byte>)noFlag, out _));

        // Reserved bits are ignored on receipt (RFC 7348, section 5).
        var reserved = (byte[])LinuxVni42.Clone();
        reserved[0] = 0xFF;
        reserved[1] = 0x12;
        reserved[7] = 0x34;
        Assert.True(VxlanHeader.TryCreate((ReadOnlySpan<byte>)reserved, out var header));
        Assert.Equal(42u, header.Vni);
    }
}
