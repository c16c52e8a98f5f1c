using TunTap.Wire;

namespace TunTap.Switching.Dhcp;

/// <summary>
/// The lease logic of a DHCP server, without wire formats or I/O: which address a client is
/// offered, whether a request is granted, releases, declines and expiry against an injected clock.
/// A client is known by its MAC address. It keeps one binding per MAC address and one per address
/// (expired and released ones stay as history), so its memory is bounded by the pool, and a
/// returning client gets its old address back while no one else took it.
/// </summary>
/// <remarks>
/// Choice of an offered address: the client's reservation; else its binding (even expired) when
/// the address is still free; else its pending offer; else the address it asks for when free;
/// else the first never-used free address; else the free address whose binding expired longest
/// ago. An address is free for a client when it is in the range (or reserved for that client),
/// reserved for no one else, not declined recently, not leased to another client and not offered
/// to another client within <see cref="OfferHold"/>. Not thread-safe: one caller at a time.
/// </remarks>
public sealed class DhcpLeaseTable
{
    private readonly Dictionary<MacAddress, DhcpLease> _byMac = [];
    private readonly Dictionary<uint, MacAddress> _byAddress = [];
    private readonly Dictionary<MacAddress, (uint Address, DateTimeOffset Until)> _offers = [];
    private readonly Dictionary<uint, MacAddress> _offered = [];
    private readonly Dictionary<uint, DateTimeOffset> _declined = [];
    private readonly Dictionary<MacAddress, uint> _reservedByMac = [];
    private readonly Dictionary<uint, MacAddress> _reservedByAddress = [];
    private readonly TimeProvider _time;
    private readonly uint _mask;
    private readonly uint _network;

    /// <summary>Creates an empty table.</summary>
    /// <param name="serverAddress">The server's own address (never handed out); with <paramref name="prefixLength"/> it names the subnet.</param>
    /// <param name="prefixLength">The subnet's prefix length (8 to 30).</param>
    /// <param name="range">The addresses handed out (inside the subnet).</param>
    /// <param name="reservations">Static leases (inside the subnet; one per MAC and per address).</param>
    /// <param name="leaseTime">How long a granted lease runs (at least a second).</param>
    /// <param name="time">The clock (tests pass a fake one).</param>
    /// <exception cref="ArgumentException">An address is outside the subnet, the network or broadcast address, or the server's; a reservation repeats.</exception>
    public DhcpLeaseTable(uint serverAddress, int prefixLength, DhcpRange range, IReadOnlyList<DhcpReservation> reservations, TimeSpan leaseTime, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(reservations);
        ArgumentOutOfRangeException.ThrowIfLessThan(prefixLength, 8);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 30);
        ArgumentOutOfRangeException.ThrowIfLessThan(leaseTime, TimeSpan.FromSeconds(1));
        _mask = uint.MaxValue << (32 - prefixLength);
        _network = serverAddress & _mask;
        ServerAddress = serverAddress;
        PrefixLength = prefixLength;
        Range = range;
        LeaseTime = leaseTime;
        _time = time ?? TimeProvider.System;
        if (!IsHost(serverAddress))
        {
            throw new ArgumentException($"{DhcpLease.ToIPAddress(serverAddress)}/{prefixLength} is the network or broadcast address, not a server's", nameof(serverAddress));
        }

        if (!IsHost(range.Start) || !IsHost(range.End) || range.End < range.Start)
        {
            throw new ArgumentException($"the range {range} is not inside {DhcpLease.ToIPAddress(_network)}/{prefixLength} (network and broadcast addresses excluded)", nameof(range));
        }

        foreach (var reservation in reservations)
        {
            if (!IsHost(reservation.Address) || reservation.Address == serverAddress)
            {
                throw new ArgumentException($"the reservation {reservation} is outside {DhcpLease.ToIPAddress(_network)}/{prefixLength} or is the server's address", nameof(reservations));
            }

            if (!_reservedByMac.TryAdd(reservation.Mac, reservation.Address) || !_reservedByAddress.TryAdd(reservation.Address, reservation.Mac))
            {
                throw new ArgumentException($"the reservation {reservation} repeats a MAC address or an address", nameof(reservations));
            }
        }
    }

    /// <summary>The server's address.</summary>
    public uint ServerAddress { get; }

    /// <summary>The subnet's prefix length.</summary>
    public int PrefixLength { get; }

    /// <summary>The subnet mask.</summary>
    public uint SubnetMask => _mask;

    /// <summary>The addresses handed out.</summary>
    public DhcpRange Range { get; }

    /// <summary>How long a granted lease runs.</summary>
    public TimeSpan LeaseTime { get; }

    /// <summary>How long an offered address is held for the client it was offered to.</summary>
    public TimeSpan OfferHold { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a declined address (in use by someone unknown) is not handed out.</summary>
    public TimeSpan DeclineHold { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Grows by one at each change worth saving (a lease granted, released or dropped).</summary>
    public long Version { get; private set; }

    /// <summary>Bindings held (active, expired and released).</summary>
    public int Count => _byMac.Count;

    /// <summary>The bindings, active and past (allocates; for saving and display).</summary>
    public IReadOnlyList<DhcpLease> Snapshot()
    {
        var list = new List<DhcpLease>(_byMac.Values);
        list.Sort((a, b) => a.Address.CompareTo(b.Address));
        return list;
    }

    /// <summary>The binding of <paramref name="mac"/>, active or past.</summary>
    public bool TryGetLease(MacAddress mac, out DhcpLease lease) => _byMac.TryGetValue(mac, out lease);

    /// <summary>
    /// Takes bindings read from a lease file. Those outside the subnet, on the server's or
    /// someone else's reserved address, or whose MAC or address is already bound are skipped.
    /// </summary>
    /// <returns>How many were taken.</returns>
    public int Load(IEnumerable<DhcpLease> leases)
    {
        ArgumentNullException.ThrowIfNull(leases);
        var taken = 0;
        foreach (var lease in leases)
        {
            var reservedForIt = _reservedByMac.TryGetValue(lease.Mac, out var reserved) && reserved == lease.Address;
            if (!reservedForIt && (!Range.Contains(lease.Address) || _reservedByAddress.ContainsKey(lease.Address)))
            {
                continue;
            }

            if (lease.Address == ServerAddress || !IsHost(lease.Address) || _byMac.ContainsKey(lease.Mac) || _byAddress.ContainsKey(lease.Address))
            {
                continue;
            }

            Bind(lease);
            taken++;
        }

        return taken;
    }

    /// <summary>
    /// Chooses the address to offer <paramref name="mac"/> (see the remarks on the type) and holds
    /// it for <see cref="OfferHold"/>; 0 when no address is free.
    /// </summary>
    /// <param name="mac">The client.</param>
    /// <param name="requested">The address it asks for (option 50), or 0.</param>
    public uint Offer(MacAddress mac, uint requested)
    {
        var now = _time.GetUtcNow();
        var address = ChooseOffer(mac, requested, now);
        if (address != 0)
        {
            if (_offers.Count >= Range.Count)
            {
                PurgeOffers(now);
            }

            CancelOffer(mac);
            _offers[mac] = (address, now + OfferHold);
            _offered[address] = mac;
        }

        return address;
    }

    /// <summary>Forgets the offer made to <paramref name="mac"/> (it took another server's).</summary>
    public void CancelOffer(MacAddress mac)
    {
        if (_offers.Remove(mac, out var offer) && _offered.TryGetValue(offer.Address, out var owner) && owner == mac)
        {
            _offered.Remove(offer.Address);
        }
    }

    /// <summary>
    /// Grants (or extends) <paramref name="address"/> to <paramref name="mac"/> for <see cref="LeaseTime"/>
    /// when it is free for it; null when it is not (the server answers NAK).
    /// </summary>
    public DhcpLease? Acknowledge(MacAddress mac, uint address, string? hostName = null)
    {
        var now = _time.GetUtcNow();
        if (!IsFreeFor(address, mac, now))
        {
            return null;
        }

        CancelOffer(mac);
        var lease = new DhcpLease(mac, address, TruncateToSeconds(now + LeaseTime), hostName);
        Bind(lease);
        Version++;
        return lease;
    }

    /// <summary>Ends the lease of <paramref name="mac"/> on <paramref name="address"/> now; false when it holds no such lease.</summary>
    public bool Release(MacAddress mac, uint address)
    {
        var now = _time.GetUtcNow();
        if (!_byMac.TryGetValue(mac, out var lease) || lease.Address != address || !lease.IsActive(now))
        {
            return false;
        }

        _byMac[mac] = lease with { Expires = TruncateToSeconds(now) };
        Version++;
        return true;
    }

    /// <summary>
    /// The client found <paramref name="address"/> in use by someone else: its binding is dropped
    /// and the address is not handed out for <see cref="DeclineHold"/>. False when the address was
    /// neither offered nor leased to it.
    /// </summary>
    public bool Decline(MacAddress mac, uint address)
    {
        var offered = _offers.TryGetValue(mac, out var offer) && offer.Address == address;
        var leased = _byMac.TryGetValue(mac, out var lease) && lease.Address == address;
        if (!offered && !leased)
        {
            return false;
        }

        CancelOffer(mac);
        if (leased)
        {
            _byMac.Remove(mac);
            _byAddress.Remove(address);
            Version++;
        }

        _declined[address] = _time.GetUtcNow() + DeclineHold;
        return true;
    }

    /// <summary>True when <paramref name="address"/> is a host address of the subnet (not the network or broadcast address).</summary>
    public bool IsHost(uint address) => (address & _mask) == _network && address != _network && address != (_network | ~_mask);

    private static DateTimeOffset TruncateToSeconds(DateTimeOffset time) => new(time.Ticks - (time.Ticks % TimeSpan.TicksPerSecond), time.Offset);

    private uint ChooseOffer(MacAddress mac, uint requested, DateTimeOffset now)
    {
        if (_reservedByMac.TryGetValue(mac, out var reserved))
        {
            return reserved;
        }

        if (_byMac.TryGetValue(mac, out var lease) && IsFreeFor(lease.Address, mac, now))
        {
            return lease.Address;
        }

        if (_offers.TryGetValue(mac, out var offer) && offer.Until > now && IsFreeFor(offer.Address, mac, now))
        {
            return offer.Address;
        }

        if (requested != 0 && IsFreeFor(requested, mac, now))
        {
            return requested;
        }

        uint oldest = 0;
        var oldestExpiry = DateTimeOffset.MaxValue;
        for (var address = Range.Start; ; address++)
        {
            if (IsFreeFor(address, mac, now))
            {
                if (!_byAddress.TryGetValue(address, out var owner))
                {
                    return address;
                }

                var expires = _byMac[owner].Expires;
                if (expires < oldestExpiry)
                {
                    oldest = address;
                    oldestExpiry = expires;
                }
            }

            if (address == Range.End)
            {
                break;
            }
        }

        return oldest;
    }

    private bool IsFreeFor(uint address, MacAddress mac, DateTimeOffset now)
    {
        if (_reservedByAddress.TryGetValue(address, out var reservedFor))
        {
            return reservedFor == mac;
        }

        if (!Range.Contains(address) || address == ServerAddress || !IsHost(address))
        {
            return false;
        }

        if (_declined.TryGetValue(address, out var until))
        {
            if (until > now)
            {
                return false;
            }

            _declined.Remove(address);
        }

        if (_byAddress.TryGetValue(address, out var owner) && owner != mac && _byMac[owner].IsActive(now))
        {
            return false;
        }

        return !_offered.TryGetValue(address, out var offeredTo) || offeredTo == mac || !_offers.TryGetValue(offeredTo, out var offer) || offer.Address != address || offer.Until <= now;
    }

    private void Bind(DhcpLease lease)
    {
        // The address's previous holder (expired) loses its history; so does the client's old address.
        if (_byAddress.TryGetValue(lease.Address, out var previous) && previous != lease.Mac)
        {
            _byMac.Remove(previous);
        }

        if (_byMac.TryGetValue(lease.Mac, out var old) && old.Address != lease.Address)
        {
            _byAddress.Remove(old.Address);
        }

        _byMac[lease.Mac] = lease;
        _byAddress[lease.Address] = lease.Mac;
    }

    private void PurgeOffers(DateTimeOffset now)
    {
        List<MacAddress>? stale = null;
        foreach (var (mac, offer) in _offers)
        {
            if (offer.Until <= now)
            {
                (stale ??= []).Add(mac);
            }
        }

        if (stale is not null)
        {
            foreach (var mac in stale)
            {
                CancelOffer(mac);
            }
        }
    }
}
