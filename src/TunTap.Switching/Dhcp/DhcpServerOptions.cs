using System.Net;
using TunTap.Wire;

namespace TunTap.Switching.Dhcp;

/// <summary>What a <see cref="DhcpServer"/> hands out and where it keeps its leases.</summary>
public sealed record DhcpServerOptions
{
    /// <summary>The most addresses a range may hold (a DISCOVER may scan all of them).</summary>
    public const int MaxRangeSize = 65536;

    /// <summary>The server's address and the subnet's prefix (the switch's IPv4 gateway); also the default router and DNS server.</summary>
    public required InterfaceAddress Gateway { get; init; }

    /// <summary>The server's MAC address (the gateway's).</summary>
    public required MacAddress ServerMac { get; init; }

    /// <summary>The addresses handed out.</summary>
    public required DhcpRange Range { get; init; }

    /// <summary>DNS servers (option 6); empty: the gateway address.</summary>
    public IReadOnlyList<IPAddress> DnsServers { get; init; } = [];

    /// <summary>How long a lease runs (option 51); renewal (T1) at half of it, rebinding (T2) at 7/8.</summary>
    public TimeSpan LeaseTime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Static leases.</summary>
    public IReadOnlyList<DhcpReservation> Reservations { get; init; } = [];

    /// <summary>Where leases are kept across restarts, or null to keep them in memory only.</summary>
    public string? LeaseFile { get; init; }

    /// <summary>Receives one line per lease event (granted, refused, released, declined, save failures).</summary>
    public Action<string>? Log { get; init; }

    /// <summary>The default lease file of the switch <paramref name="switchName"/>: <c>/var/lib/tuntap/switch-NAME.leases</c>.</summary>
    public static string DefaultLeaseFile(string switchName) => $"/var/lib/tuntap/switch-{switchName}.leases";

    /// <summary>Parses a lease time: seconds (<c>3600</c>) or with a unit (<c>90s</c>, <c>30m</c>, <c>1h</c>, <c>1d</c>).</summary>
    public static bool TryParseLeaseTime(string? text, out TimeSpan leaseTime) => DhcpText.TryParseDuration(text, out leaseTime);

    /// <summary>Checks the options against each other.</summary>
    /// <exception cref="TunTapException">The gateway is not IPv4 or its prefix leaves no room, the range or a reservation lies outside the subnet, a DNS server is not IPv4, or the lease time is out of range.</exception>
    public void Validate()
    {
        if (!Gateway.IsIPv4 || Gateway.PrefixLength is < 8 or > 30)
        {
            throw new TunTapException($"DHCP needs an IPv4 gateway with a prefix of /8 to /30; got {Gateway}", "pass --gateway 10.0.0.1/24 (the prefix names the subnet handed out)");
        }

        var server = DhcpLease.ToValue(Gateway.Address);
        var mask = uint.MaxValue << (32 - Gateway.PrefixLength);
        var network = server & mask;
        var subnet = $"{DhcpLease.ToIPAddress(network)}/{Gateway.PrefixLength}";
        bool IsHost(uint address) => (address & mask) == network && address != network && address != (network | ~mask);
        if (!IsHost(server))
        {
            throw new TunTapException($"the gateway {Gateway} is the network or broadcast address of {subnet}", "give the gateway a host address, e.g. 10.0.0.1/24");
        }

        if (!IsHost(Range.Start) || !IsHost(Range.End))
        {
            throw new TunTapException($"the DHCP range {Range} is not inside the gateway's subnet {subnet}", "choose a range of host addresses of the --gateway subnet");
        }

        if (Range.Count > MaxRangeSize)
        {
            throw new TunTapException($"the DHCP range {Range} holds {Range.Count} addresses; at most {MaxRangeSize}", "choose a smaller range");
        }

        foreach (var reservation in Reservations)
        {
            if (!IsHost(reservation.Address) || reservation.Address == server)
            {
                throw new TunTapException($"the DHCP reservation {reservation} is outside {subnet} or is the gateway's address", "reserve a host address of the --gateway subnet");
            }
        }

        var macs = new HashSet<MacAddress>();
        var addresses = new HashSet<uint>();
        foreach (var reservation in Reservations)
        {
            if (!macs.Add(reservation.Mac) || !addresses.Add(reservation.Address))
            {
                throw new TunTapException($"the DHCP reservation {reservation} repeats a MAC address or an address", "give each MAC address one address and each address one MAC");
            }
        }

        foreach (var dns in DnsServers)
        {
            if (dns.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
            {
                throw new TunTapException($"the DNS server {dns} is not an IPv4 address", "DHCPv4 hands out IPv4 DNS servers only");
            }
        }

        if (DnsServers.Count > 16)
        {
            throw new TunTapException($"{DnsServers.Count} DNS servers; at most 16", "name fewer --dns servers");
        }

        if (LeaseTime < TimeSpan.FromSeconds(10) || LeaseTime.TotalSeconds >= uint.MaxValue)
        {
            throw new TunTapException($"the lease time {LeaseTime} is out of range", "allowed: 10 seconds to about 136 years; e.g. 1h");
        }
    }
}
