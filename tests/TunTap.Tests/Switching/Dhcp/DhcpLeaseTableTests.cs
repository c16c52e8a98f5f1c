using Microsoft.Extensions.Time.Testing;
using TunTap.Switching.Dhcp;
using static TunTap.Tests.Switching.Dhcp.DhcpFrames;

namespace TunTap.Tests.Switching.Dhcp;

public sealed class DhcpLeaseTableTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Fact]
    public void Offers_go_to_distinct_free_addresses_from_the_start_of_the_range()
    {
        var table = Table(new FakeTimeProvider(), "10.0.0.10-10.0.0.12");
        Assert.Equal(Ip("10.0.0.10"), table.Offer(Mac(1), 0));
        Assert.Equal(Ip("10.0.0.11"), table.Offer(Mac(2), 0));

        // The same client asking again keeps its offer.
        Assert.Equal(Ip("10.0.0.10"), table.Offer(Mac(1), 0));

        // An address offered to another client is not offered even when asked for.
        Assert.Equal(Ip("10.0.0.12"), table.Offer(Mac(3), Ip("10.0.0.10")));
        Assert.Equal(0u, table.Offer(Mac(4), 0));
    }

    [Fact]
    public void The_server_address_inside_the_range_is_never_handed_out()
    {
        var table = Table(new FakeTimeProvider(), "10.0.0.1-10.0.0.2");
        Assert.Equal(Ip("10.0.0.2"), table.Offer(Mac(1), Ip("10.0.0.1")));
        Assert.Null(table.Acknowledge(Mac(2), Ip("10.0.0.1")));
        Assert.Equal(0u, table.Offer(Mac(2), 0));
    }

    [Fact]
    public void A_requested_free_address_is_offered_and_acknowledged()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var table = Table(time);
        Assert.Equal(Ip("10.0.0.150"), table.Offer(Mac(1), Ip("10.0.0.150")));
        var lease = table.Acknowledge(Mac(1), Ip("10.0.0.150"), "vm1");
        Assert.NotNull(lease);
        Assert.Equal(Ip("10.0.0.150"), lease.Value.Address);
        Assert.Equal(time.GetUtcNow() + Hour, lease.Value.Expires);
        Assert.Equal("vm1", lease.Value.HostName);
        Assert.Equal(1, table.Version);

        // Outside the range, or outside the subnet: refused.
        Assert.Null(table.Acknowledge(Mac(2), Ip("10.0.0.50")));
        Assert.Null(table.Acknowledge(Mac(2), Ip("192.168.1.100")));
        Assert.Equal(1, table.Version);
    }

    [Fact]
    public void An_address_leased_to_one_client_is_refused_to_another_until_it_expires()
    {
        var time = new FakeTimeProvider();
        var table = Table(time);
        Assert.NotNull(table.Acknowledge(Mac(1), Ip("10.0.0.100")));
        Assert.Null(table.Acknowledge(Mac(2), Ip("10.0.0.100")));
        Assert.Equal(Ip("10.0.0.101"), table.Offer(Mac(2), Ip("10.0.0.100")));

        time.Advance(Hour + TimeSpan.FromSeconds(1));
        var taken = table.Acknowledge(Mac(3), Ip("10.0.0.100"));
        Assert.NotNull(taken);
        Assert.False(table.TryGetLease(Mac(1), out _)); // the old holder's history went with the address
    }

    [Fact]
    public void Renewing_extends_the_lease_from_now()
    {
        var time = new FakeTimeProvider();
        var table = Table(time);
        var first = table.Acknowledge(Mac(1), Ip("10.0.0.100"))!.Value;
        time.Advance(TimeSpan.FromMinutes(30));
        var renewed = table.Acknowledge(Mac(1), Ip("10.0.0.100"))!.Value;
        Assert.Equal(first.Expires + TimeSpan.FromMinutes(30), renewed.Expires);
    }

    [Fact]
    public void A_returning_client_gets_its_old_address_even_after_expiry_and_newcomers_get_unused_ones_first()
    {
        var time = new FakeTimeProvider();
        var table = Table(time, "10.0.0.100-10.0.0.102");
        Assert.NotNull(table.Acknowledge(Mac(1), table.Offer(Mac(1), 0)));
        Assert.True(table.Release(Mac(1), Ip("10.0.0.100")));
        Assert.False(table.Release(Mac(1), Ip("10.0.0.100")));
        time.Advance(TimeSpan.FromDays(3));

        // A newcomer does not take the released address while a never-used one is free.
        Assert.Equal(Ip("10.0.0.101"), table.Offer(Mac(2), 0));
        Assert.Equal(Ip("10.0.0.100"), table.Offer(Mac(1), 0));
    }

    [Fact]
    public void When_the_range_is_full_the_address_expired_longest_ago_is_reused()
    {
        var time = new FakeTimeProvider();
        var table = Table(time, "10.0.0.100-10.0.0.101");
        Assert.NotNull(table.Acknowledge(Mac(1), Ip("10.0.0.101")));
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.NotNull(table.Acknowledge(Mac(2), Ip("10.0.0.100")));
        Assert.Equal(0u, table.Offer(Mac(3), 0));

        time.Advance(TimeSpan.FromHours(2)); // both expired, Mac(1)'s first
        Assert.Equal(Ip("10.0.0.101"), table.Offer(Mac(3), 0));
    }

    [Fact]
    public void An_offer_is_held_only_for_the_hold_time()
    {
        var time = new FakeTimeProvider();
        var table = Table(time, "10.0.0.100-10.0.0.100");
        Assert.Equal(Ip("10.0.0.100"), table.Offer(Mac(1), 0));
        Assert.Equal(0u, table.Offer(Mac(2), 0));
        Assert.Null(table.Acknowledge(Mac(2), Ip("10.0.0.100")));
        time.Advance(table.OfferHold + TimeSpan.FromSeconds(1));
        Assert.Equal(Ip("10.0.0.100"), table.Offer(Mac(2), 0));

        // Cancelling (the client chose another server) frees it at once.
        table.CancelOffer(Mac(2));
        Assert.Equal(Ip("10.0.0.100"), table.Offer(Mac(3), 0));
    }

    [Fact]
    public void Reservations_go_to_their_client_only()
    {
        var time = new FakeTimeProvider();
        var table = new DhcpLeaseTable(Ip("10.0.0.1"), 24, new DhcpRange(Ip("10.0.0.100"), Ip("10.0.0.101")), [new DhcpReservation(Mac(9), Ip("10.0.0.100")), new DhcpReservation(Mac(8), Ip("10.0.0.50"))], Hour, time);
        Assert.Equal(Ip("10.0.0.101"), table.Offer(Mac(1), Ip("10.0.0.100")));
        Assert.Null(table.Acknowledge(Mac(2), Ip("10.0.0.100")));
        Assert.Equal(Ip("10.0.0.100"), table.Offer(Mac(9), Ip("10.0.0.101")));
        Assert.NotNull(table.Acknowledge(Mac(9), Ip("10.0.0.100")));

        // Outside the range, still granted to its client.
        Assert.Equal(Ip("10.0.0.50"), table.Offer(Mac(8), 0));
        Assert.NotNull(table.Acknowledge(Mac(8), Ip("10.0.0.50")));
    }

    [Fact]
    public void A_declined_address_is_held_back_then_returns()
    {
        var time = new FakeTimeProvider();
        var table = Table(time, "10.0.0.100-10.0.0.101");
        Assert.Equal(Ip("10.0.0.100"), table.Offer(Mac(1), 0));
        Assert.False(table.Decline(Mac(2), Ip("10.0.0.100")));
        Assert.True(table.Decline(Mac(1), Ip("10.0.0.100")));
        Assert.Equal(Ip("10.0.0.101"), table.Offer(Mac(1), 0));
        Assert.Null(table.Acknowledge(Mac(3), Ip("10.0.0.100")));
        time.Advance(table.DeclineHold + TimeSpan.FromSeconds(1));
        Assert.NotNull(table.Acknowledge(Mac(3), Ip("10.0.0.100")));

        // Declining a granted lease drops the binding.
        var versionBefore = table.Version;
        Assert.True(table.Decline(Mac(3), Ip("10.0.0.100")));
        Assert.False(table.TryGetLease(Mac(3), out _));
        Assert.Equal(versionBefore + 1, table.Version);
    }

    [Fact]
    public void Loading_keeps_valid_bindings_and_skips_the_rest()
    {
        var time = new FakeTimeProvider();
        var table = new DhcpLeaseTable(Ip("10.0.0.1"), 24, new DhcpRange(Ip("10.0.0.100"), Ip("10.0.0.200")), [new DhcpReservation(Mac(9), Ip("10.0.0.150"))], Hour, time);
        var later = time.GetUtcNow() + Hour;
        var taken = table.Load(
        [
            new DhcpLease(Mac(1), Ip("10.0.0.100"), later, null),
            new DhcpLease(Mac(2), Ip("10.0.0.100"), later, null), // address repeated
            new DhcpLease(Mac(1), Ip("10.0.0.101"), later, null), // MAC repeated
            new DhcpLease(Mac(3), Ip("10.0.1.5"), later, null), // outside the subnet
            new DhcpLease(Mac(4), Ip("10.0.0.150"), later, null), // someone else's reservation
            new DhcpLease(Mac(5), Ip("10.0.0.50"), later, null), // outside the range
            new DhcpLease(Mac(9), Ip("10.0.0.150"), later, "res"),
        ]);
        Assert.Equal(2, taken);
        Assert.Null(table.Acknowledge(Mac(2), Ip("10.0.0.100")));
        Assert.Equal(Ip("10.0.0.100"), table.Offer(Mac(1), 0));
        Assert.Equal(0, table.Version); // loading is not a change to save
    }

    [Fact]
    public void Construction_refuses_ranges_and_reservations_outside_the_subnet()
    {
        var range = new DhcpRange(Ip("10.0.0.100"), Ip("10.0.0.200"));
        Assert.Throws<ArgumentException>(() => new DhcpLeaseTable(Ip("10.0.0.1"), 24, new DhcpRange(Ip("10.0.0.100"), Ip("10.0.1.5")), [], Hour));
        Assert.Throws<ArgumentException>(() => new DhcpLeaseTable(Ip("10.0.0.1"), 24, new DhcpRange(Ip("10.0.0.100"), Ip("10.0.0.255")), [], Hour));
        Assert.Throws<ArgumentException>(() => new DhcpLeaseTable(Ip("10.0.0.0"), 24, range, [], Hour));
        Assert.Throws<ArgumentException>(() => new DhcpLeaseTable(Ip("10.0.0.1"), 24, range, [new DhcpReservation(Mac(1), Ip("10.0.0.1"))], Hour));
        Assert.Throws<ArgumentException>(() => new DhcpLeaseTable(Ip("10.0.0.1"), 24, range, [new DhcpReservation(Mac(1), Ip("10.0.0.5")), new DhcpReservation(Mac(1), Ip("10.0.0.6"))], Hour));
    }

    private static DhcpLeaseTable Table(TimeProvider time, string range = "10.0.0.100-10.0.0.200")
    {
        Assert.True(DhcpRange.TryParse(range, out var parsed, out var error), error);
        return new DhcpLeaseTable(Ip("10.0.0.1"), 24, parsed, [], Hour, time);
    }
}
