using TunTap.Switching.Dhcp;
using static TunTap.Tests.Switching.Dhcp.DhcpFrames;

namespace TunTap.Tests.Switching.Dhcp;

public sealed class DhcpLeaseFileTests
{
    private static readonly DateTimeOffset Expiry = new(2026, 11, 25, 17, 30, 0, TimeSpan.Zero);

    [Fact]
    public void Lease_file_lines_are_mac_address_expiry_and_optional_host_name()
    {
        var text = DhcpLeaseFile.Format([new DhcpLease(Mac(1), Ip("10.0.0.100"), Expiry, "vm1"), new DhcpLease(Mac(2), Ip("10.0.0.101"), Expiry, null)]);
        Assert.Equal(
            "# tuntap switch DHCP leases: MAC ADDRESS EXPIRES(UTC) [HOSTNAME]\n" +
            "52:54:00:00:00:01 10.0.0.100 2026-11-25T17:30:00Z vm1\n" +
            "52:54:00:00:00:02 10.0.0.101 2026-11-25T17:30:00Z\n",
            text);

        var parsed = DhcpLeaseFile.Parse(text, out var skipped);
        Assert.Equal(0, skipped);
        Assert.Equal([new DhcpLease(Mac(1), Ip("10.0.0.100"), Expiry, "vm1"), new DhcpLease(Mac(2), Ip("10.0.0.101"), Expiry, null)], parsed);
    }

    [Theory]
    [InlineData("52:54:00:00:00:01 10.0.0.100")]
    [InlineData("52:54:00:00:00:01 10.0.0.300 2026-11-25T17:30:00Z")]
    [InlineData("52:54:00:00:00 10.0.0.100 2026-11-25T17:30:00Z")]
    [InlineData("52:54:00:00:00:01 fd00::1 2026-11-25T17:30:00Z")]
    [InlineData("52:54:00:00:00:01 10.0.0.100 yesterday")]
    [InlineData("52:54:00:00:00:01 10.0.0.100 2026-11-25T17:30:00Z host name")]
    [InlineData("52:54:00:00:00:01 10.0.0.100 2026-11-25T17:30:00Z h%st")]
    public void Lease_file_lines_that_are_not_bindings_are_skipped_and_counted(string line)
    {
        var parsed = DhcpLeaseFile.Parse($"# comment\n\n{line}\n52:54:00:00:00:09 10.0.0.109 2026-11-25T17:30:00Z\n", out var skipped);
        Assert.Equal(1, skipped);
        Assert.Equal(Mac(9), Assert.Single(parsed).Mac);
    }

    [Fact]
    public void Lease_file_is_replaced_whole_and_a_missing_one_reads_empty()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"tt-dhcp-{Guid.NewGuid():N}");
        var path = Path.Combine(folder, "sub", "switch-x.leases");
        try
        {
            Assert.Empty(DhcpLeaseFile.Read(path, out var skipped));
            Assert.Equal(0, skipped);
            DhcpLeaseFile.Write(path, [new DhcpLease(Mac(1), Ip("10.0.0.100"), Expiry, null), new DhcpLease(Mac(2), Ip("10.0.0.101"), Expiry, null)]);
            DhcpLeaseFile.Write(path, [new DhcpLease(Mac(3), Ip("10.0.0.102"), Expiry, null)]);
            Assert.Equal(Mac(3), Assert.Single(DhcpLeaseFile.Read(path, out _)).Mac);
            Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Text_forms_of_ranges_reservations_and_lease_times_parse()
    {
        Assert.True(DhcpRange.TryParse("10.0.0.100-10.0.0.200", out var range, out _));
        Assert.Equal(101, range.Count);
        Assert.Equal("10.0.0.100-10.0.0.200", range.ToString());
        Assert.False(DhcpRange.TryParse("10.0.0.200-10.0.0.100", out _, out var backwards));
        Assert.Contains("ends before it starts", backwards, StringComparison.Ordinal);
        Assert.False(DhcpRange.TryParse("10.0.0.100", out _, out _));
        Assert.False(DhcpRange.TryParse("10.0.0.100-fd00::1", out _, out _));
        Assert.False(DhcpRange.TryParse("10.0.0-10.0.0.5", out _, out _));

        Assert.True(DhcpReservation.TryParse("52:54:00:AB:cd:01=10.0.0.50", out var reservation, out _));
        Assert.Equal("52:54:00:ab:cd:01=10.0.0.50", reservation.ToString());
        Assert.False(DhcpReservation.TryParse("01:00:5e:00:00:01=10.0.0.50", out _, out var multicast));
        Assert.Contains("not a station's address", multicast, StringComparison.Ordinal);
        Assert.False(DhcpReservation.TryParse("52:54:00:ab:cd:01", out _, out _));
        Assert.False(DhcpReservation.TryParse("52:54:00:ab:cd=10.0.0.1", out _, out _));

        Assert.True(DhcpServerOptions.TryParseLeaseTime("3600", out var seconds));
        Assert.Equal(TimeSpan.FromHours(1), seconds);
        Assert.True(DhcpServerOptions.TryParseLeaseTime("90s", out var s));
        Assert.Equal(TimeSpan.FromSeconds(90), s);
        Assert.True(DhcpServerOptions.TryParseLeaseTime("30m", out var m));
        Assert.Equal(TimeSpan.FromMinutes(30), m);
        Assert.True(DhcpServerOptions.TryParseLeaseTime("2d", out var d));
        Assert.Equal(TimeSpan.FromDays(2), d);
        Assert.False(DhcpServerOptions.TryParseLeaseTime("-5", out _));
        Assert.False(DhcpServerOptions.TryParseLeaseTime("1w", out _));
        Assert.False(DhcpServerOptions.TryParseLeaseTime("", out _));
        Assert.False(DhcpServerOptions.TryParseLeaseTime("99999999999d", out _));
    }
}
