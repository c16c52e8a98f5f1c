using CsCheck;
using TunTap.Devices;
using TunTap.Tunnel;

namespace TunTap.Tests.Tunnel;

public sealed class TunnelHelloTests
{
    [Fact]
    public void Hello_round_trips_and_has_the_documented_layout()
    {
        var hello = TunnelHello.For(DeviceMode.Tap, 9000, compress: true);
        var bytes = new byte[TunnelHello.Size];
        hello.Encode(bytes);
        Assert.Equal(new byte[] { (byte)'T', (byte)'T', (byte)'U', (byte)'N', 2, 1, 1, 0, 0x23, 0x28 }, bytes);
        Assert.True(TunnelHello.TryDecode(bytes, out var decoded));
        Assert.Equal(hello, decoded);
    }

    [Fact]
    public void Decode_rejects_wrong_magic_length_mode_and_flags()
    {
        var bytes = new byte[TunnelHello.Size];
        TunnelHello.For(DeviceMode.Tun, 1500, compress: false).Encode(bytes);
        Assert.False(TunnelHello.TryDecode(bytes.AsSpan(0, 9), out _));
        Assert.False(TunnelHello.TryDecode([.. bytes, 0], out _));
        var bad = (byte[])bytes.Clone();
        bad[0] = (byte)'X';
        Assert.False(TunnelHello.TryDecode(bad, out _));
        bad = (byte[])bytes.Clone();
        bad[TunnelHello.Field.Mode] = 2;
        Assert.False(TunnelHello.TryDecode(bad, out _));
        bad = (byte[])bytes.Clone();
        bad[TunnelHello.Field.Flags] = 4;
        Assert.False(TunnelHello.TryDecode(bad, out _));
    }

    [Fact]
    public void Mismatch_names_both_values_from_this_ends_point_of_view()
    {
        var tun = TunnelHello.For(DeviceMode.Tun, 1500, compress: false);
        Assert.Null(tun.DescribeMismatch(tun));
        Assert.Equal("mode mismatch: this end is tun, the peer is tap", tun.DescribeMismatch(tun with { Mode = DeviceMode.Tap }));
        Assert.Equal("mode mismatch: this end is tap, the peer is tun", (tun with { Mode = DeviceMode.Tap }).DescribeMismatch(tun));
        Assert.Equal("MTU mismatch: this end has MTU 1500, the peer has MTU 1400", tun.DescribeMismatch(tun with { Mtu = 1400 }));
        Assert.Equal("compression mismatch: this end has compression off, the peer has it on", tun.DescribeMismatch(tun with { Compress = true }));
        Assert.Equal(
            "mode mismatch: this end is tun, the peer is tap; MTU mismatch: this end has MTU 1500, the peer has MTU 1400",
            tun.DescribeMismatch(new TunnelHello(TunnelHello.CurrentVersion, DeviceMode.Tap, 1400, false)));
        Assert.Equal(
            "protocol version mismatch: this end speaks version 2, the peer speaks version 1",
            tun.DescribeMismatch(tun with { Version = 1, Mode = DeviceMode.Tap }));
    }

    [Fact]
    public void Offload_flag_round_trips_and_is_negotiated_not_compared()
    {
        var with = TunnelHello.For(DeviceMode.Tun, 1500, compress: false, offload: true);
        var without = TunnelHello.For(DeviceMode.Tun, 1500, compress: false);
        var bytes = new byte[TunnelHello.Size];
        with.Encode(bytes);
        Assert.Equal(2, bytes[TunnelHello.Field.Flags]);
        Assert.True(TunnelHello.TryDecode(bytes, out var decoded));
        Assert.True(decoded.Offload);
        Assert.Equal(with, decoded);
        Assert.Null(with.DescribeMismatch(without));
        Assert.Null(without.DescribeMismatch(with));
        Assert.True(with.AgreesOnOffload(with));
        Assert.False(with.AgreesOnOffload(without));
        Assert.False(without.AgreesOnOffload(with));
    }

    [Fact]
    public void Version_1_peer_is_a_clear_mismatch()
    {
        var v1 = new byte[TunnelHello.Size];
        TunnelHello.For(DeviceMode.Tun, 1500, compress: false).Encode(v1);
        v1[TunnelHello.Field.Version] = 1;
        Assert.True(TunnelHello.TryDecode(v1, out var peer));
        Assert.Equal(
            "protocol version mismatch: this end speaks version 2, the peer speaks version 1",
            TunnelHello.For(DeviceMode.Tun, 1500, compress: false, offload: true).DescribeMismatch(peer));
    }

    [Fact]
    public void Random_bytes_decode_only_when_the_magic_matches()
    {
        Gen.Byte.Array[0, 20].Sample(bytes =>
        {
            if (TunnelHello.TryDecode(bytes, out var hello))
            {
                Assert.Equal(TunnelHello.Size, bytes.Length);
                Assert.Equal((byte)'T', bytes[0]);
                var again = new byte[TunnelHello.Size];
                hello.Encode(again);
                Assert.Equal(bytes.AsSpan(0, 7).ToArray(), again.AsSpan(0, 7).ToArray());
            }
        }, iter: 2000);
    }
}
