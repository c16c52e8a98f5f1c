using System.Buffers.Binary;
using TunTap.Wire;

namespace TunTap.Switching.Dhcp;

/// <summary>
/// A DHCPv4 server (RFC 2131, options of RFC 2132) for one Ethernet segment: it takes Ethernet
/// frames and writes the reply frame, if any, into a caller's buffer; no sockets. DISCOVER is
/// answered with an OFFER, REQUEST with an ACK or a NAK (it is authoritative: a client that asks
/// for an address the server has no record of gets it when it is free), RELEASE and DECLINE
/// update the leases, INFORM gets the parameters. Replies carry the subnet mask, router, DNS
/// servers, lease time, renewal and rebinding times and the server identifier, and go where
/// RFC 2131 section 4.1 says (broadcast when the client asks for it, else unicast to the client's
/// MAC address). Messages through relay agents are not served. Malformed messages are counted by
/// reason and dropped, never thrown. Leases are kept in <see cref="Leases"/> and, when a lease
/// file is set, written to it (atomically) after every change. Thread-safe.
/// </summary>
public sealed class DhcpServer
{
    private const int HeadersLength = EthernetFrame.UntaggedHeaderLength + Ipv4Packet.MinimumHeaderLength + UdpDatagram.HeaderLength;

    // Old BOOTP relays and clients expect at least 300 bytes of message (RFC 1542 section 2.1).
    private const int MinimumMessageLength = 300;
    private const uint BroadcastAddress = 0xFFFF_FFFF;

    private readonly Lock _gate = new();
    private readonly DhcpServerOptions _options;
    private readonly uint _server;
    private readonly uint _subnetBroadcast;
    private readonly byte[] _dnsServers;
    private readonly uint _leaseSeconds;
    private long _savedVersion;

    /// <summary>Creates a server and loads the lease file, if one is set and exists.</summary>
    /// <exception cref="TunTapException">The options do not fit together (see <see cref="DhcpServerOptions.Validate"/>), or the lease file cannot be read.</exception>
    public DhcpServer(DhcpServerOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _server = DhcpLease.ToValue(options.Gateway.Address);
        Leases = new DhcpLeaseTable(_server, options.Gateway.PrefixLength, options.Range, options.Reservations, options.LeaseTime, time);
        _subnetBroadcast = (_server & Leases.SubnetMask) | ~Leases.SubnetMask;
        _leaseSeconds = (uint)options.LeaseTime.TotalSeconds;
        var dns = options.DnsServers.Count == 0 ? [options.Gateway.Address] : options.DnsServers;
        _dnsServers = new byte[4 * dns.Count];
        for (var i = 0; i < dns.Count; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(_dnsServers.AsSpan(4 * i), DhcpLease.ToValue(dns[i]));
        }

        // 3 (type) + 6 (server id) + 3 * 6 (lease, T1, T2) + 6 (mask) + 6 (router) + DNS + 1 (end).
        var options4 = 3 + 6 + 18 + 6 + 6 + 2 + _dnsServers.Length + 1;
        MaxReplyLength = HeadersLength + Math.Max(MinimumMessageLength, DhcpMessage.MinimumLength + options4);
        if (options.LeaseFile is { } path)
        {
            try
            {
                var loaded = DhcpLeaseFile.Read(path, out var skipped);
                var taken = Leases.Load(loaded);
                if (loaded.Count > 0 || skipped > 0)
                {
                    options.Log?.Invoke($"dhcp: {taken} lease{(taken == 1 ? "" : "s")} loaded from {path}{(skipped + loaded.Count - taken > 0 ? $" ({skipped + loaded.Count - taken} skipped)" : "")}");
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new TunTapException($"cannot read the DHCP lease file {path}: {e.Message}", "fix its permissions, or name another file with --dhcp-leases", e);
            }
        }
    }

    /// <summary>What the server did.</summary>
    public DhcpServerCounters Counters { get; } = new();

    /// <summary>The lease logic (read it under no lock only when the server is idle; see <see cref="ListLeases"/>).</summary>
    public DhcpLeaseTable Leases { get; }

    /// <summary>The longest reply frame; a reply buffer shorter than this gets nothing (<see cref="DhcpDropReason.NoRoom"/>).</summary>
    public int MaxReplyLength { get; }

    /// <summary>The server's options.</summary>
    public DhcpServerOptions Options => _options;

    /// <summary>The bindings, active and past (allocates).</summary>
    public IReadOnlyList<DhcpLease> ListLeases()
    {
        lock (_gate)
        {
            return Leases.Snapshot();
        }
    }

    /// <summary>
    /// Handles <paramref name="frame"/> (untagged Ethernet) when it is a DHCP message for this
    /// server and writes the reply frame into <paramref name="reply"/>.
    /// </summary>
    /// <returns>The reply's length; 0 when there is none (not DHCP, not for this server, nothing to answer, or dropped).</returns>
    public int Process(ReadOnlySpan<byte> frame, Span<byte> reply)
    {
        if (!EthernetFrame.TryCreate(frame, out var ethernet) || ethernet.HasVlanTag || ethernet.EtherType != EtherType.Ipv4
            || !Ipv4Packet.TryCreate(ethernet.ReadOnlyPayload, out var ip) || ip.Protocol != IpProtocol.Udp
            || ip.ReadOnlyPayload.Length < UdpDatagram.HeaderLength
            || BinaryPrimitives.ReadUInt16BigEndian(ip.ReadOnlyPayload[UdpDatagram.Field.DestinationPort..]) != DhcpMessage.ServerPort
            || (ip.Destination != BroadcastAddress && ip.Destination != _server && ip.Destination != _subnetBroadcast))
        {
            return 0;
        }

        lock (_gate)
        {
            Counters.CountReceived();
            var length = Handle(ethernet, ip, reply);
            if (Leases.Version != _savedVersion)
            {
                _savedVersion = Leases.Version;
                Save();
            }

            return length;
        }
    }

    private static bool TryGetHostName(DhcpMessage message, out string? hostName)
    {
        hostName = null;
        if (!message.TryGetOption(DhcpOptionCode.HostName, out var value) || value.IsEmpty || value.Length > 63)
        {
            return false;
        }

        Span<char> chars = stackalloc char[value.Length];
        for (var i = 0; i < value.Length; i++)
        {
            chars[i] = (char)value[i];
        }

        if (!DhcpLeaseFile.IsValidHostName(chars))
        {
            return false;
        }

        hostName = new string(chars);
        return true;
    }

    private int Handle(EthernetFrame ethernet, Ipv4Packet ip, Span<byte> reply)
    {
        if (ip.IsFragment || !ip.VerifyHeaderChecksum() || !UdpDatagram.TryCreate(ip.ReadOnlyPayload, out var udp)
            || (udp.Checksum != 0 && !udp.VerifyChecksum(udp.PseudoHeaderSum(ip.Source, ip.Destination))))
        {
            return Drop(DhcpDropReason.BadIpOrUdp);
        }

        if (!DhcpMessage.TryCreate(udp.ReadOnlyPayload, out var message))
        {
            return Drop(DhcpDropReason.Malformed);
        }

        if (message.Op != DhcpMessage.BootRequest)
        {
            return Drop(DhcpDropReason.NotRequest);
        }

        var mac = message.ClientMac;
        if (message.HardwareType != DhcpMessage.EthernetHardwareType || message.HardwareLength != MacAddress.Length || mac.IsMulticast || mac.Value == 0)
        {
            return Drop(DhcpDropReason.BadHardwareAddress);
        }

        if (message.RelayAddress != 0)
        {
            return Drop(DhcpDropReason.Relayed);
        }

        if (reply.Length < MaxReplyLength)
        {
            return Drop(DhcpDropReason.NoRoom);
        }

        var serverId = message.GetAddressOption(DhcpOptionCode.ServerIdentifier);
        var type = message.MessageType;
        if (serverId != 0 && serverId != _server && type is DhcpMessageType.Request or DhcpMessageType.Decline or DhcpMessageType.Release)
        {
            // RFC 2131 4.3.2: the client chose another server; our offer is free again.
            Leases.CancelOffer(mac);
            return Drop(DhcpDropReason.OtherServer);
        }

        return type switch
        {
            DhcpMessageType.Discover => Discover(ethernet, message, reply),
            DhcpMessageType.Request => Request(ethernet, message, reply),
            DhcpMessageType.Decline => Decline(message),
            DhcpMessageType.Release => Release(message),
            DhcpMessageType.Inform => Inform(ethernet, message, reply),
            _ => Drop(DhcpDropReason.BadMessageType),
        };
    }

    private int Discover(EthernetFrame ethernet, DhcpMessage message, Span<byte> reply)
    {
        var mac = message.ClientMac;
        var address = Leases.Offer(mac, message.GetAddressOption(DhcpOptionCode.RequestedAddress));
        if (address == 0)
        {
            _options.Log?.Invoke($"dhcp: no free address for {mac} (range {_options.Range} in use)");
            return Drop(DhcpDropReason.PoolExhausted);
        }

        Counters.CountOffer();
        return WriteReply(reply, ethernet, message, DhcpMessageType.Offer, address, clientAddress: 0, withLease: true);
    }

    private int Request(EthernetFrame ethernet, DhcpMessage message, Span<byte> reply)
    {
        var mac = message.ClientMac;

        // SELECTING and INIT-REBOOT name the address in option 50; RENEWING and REBINDING in ciaddr.
        var requested = message.GetAddressOption(DhcpOptionCode.RequestedAddress);
        var address = requested != 0 ? requested : message.ClientAddress;
        if (address == 0)
        {
            return Drop(DhcpDropReason.NoAddress);
        }

        var known = Leases.TryGetLease(mac, out var before);
        TryGetHostName(message, out var hostName);
        if (Leases.Acknowledge(mac, address, hostName) is not { } lease)
        {
            Counters.CountNak();
            _options.Log?.Invoke($"dhcp: NAK {DhcpLease.ToIPAddress(address)} for {mac} (not free for it)");
            return WriteReply(reply, ethernet, message, DhcpMessageType.Nak, 0, 0, withLease: false);
        }

        if (!known || before.Address != lease.Address || !before.IsActive(lease.Expires - _options.LeaseTime))
        {
            _options.Log?.Invoke($"dhcp: {lease.IPAddress} leased to {mac}{(hostName is null ? "" : $" ({hostName})")} for {_options.LeaseTime}");
        }

        Counters.CountAck();
        return WriteReply(reply, ethernet, message, DhcpMessageType.Ack, lease.Address, message.ClientAddress, withLease: true);
    }

    private int Decline(DhcpMessage message)
    {
        var address = message.GetAddressOption(DhcpOptionCode.RequestedAddress);
        if (address == 0)
        {
            return Drop(DhcpDropReason.NoAddress);
        }

        if (!Leases.Decline(message.ClientMac, address))
        {
            return Drop(DhcpDropReason.NoLease);
        }

        Counters.CountDecline();
        _options.Log?.Invoke($"dhcp: {message.ClientMac} declined {DhcpLease.ToIPAddress(address)} (in use by someone else): not handed out for {Leases.DeclineHold}");
        return 0;
    }

    private int Release(DhcpMessage message)
    {
        var address = message.ClientAddress;
        if (address == 0)
        {
            return Drop(DhcpDropReason.NoAddress);
        }

        if (!Leases.Release(message.ClientMac, address))
        {
            return Drop(DhcpDropReason.NoLease);
        }

        Counters.CountRelease();
        _options.Log?.Invoke($"dhcp: {message.ClientMac} released {DhcpLease.ToIPAddress(address)}");
        return 0;
    }

    private int Inform(EthernetFrame ethernet, DhcpMessage message, Span<byte> reply)
    {
        if (message.ClientAddress == 0)
        {
            return Drop(DhcpDropReason.NoAddress);
        }

        Counters.CountInform();
        Counters.CountAck();
        return WriteReply(reply, ethernet, message, DhcpMessageType.Ack, 0, message.ClientAddress, withLease: false);
    }

    private int WriteReply(Span<byte> reply, EthernetFrame request, DhcpMessage message, DhcpMessageType type, uint yourAddress, uint clientAddress, bool withLease)
    {
        // RFC 2131 4.1: NAKs and clients that asked for it get broadcasts; a client with an
        // address gets unicast to it; else unicast to the offered address at the client's MAC.
        uint destination;
        MacAddress destinationMac;
        if (type == DhcpMessageType.Nak || (clientAddress == 0 && message.Broadcast))
        {
            destination = BroadcastAddress;
            destinationMac = MacAddress.Broadcast;
        }
        else if (clientAddress != 0)
        {
            destination = clientAddress;
            destinationMac = request.Source;
        }
        else
        {
            destination = yourAddress;
            destinationMac = message.ClientMac;
        }

        var body = reply[HeadersLength..];
        var dhcp = DhcpMessage.WriteHeader(body, DhcpMessage.BootReply, message.TransactionId, message.Flags, clientAddress, yourAddress, 0, 0, message.ReadOnlyClientHardwareAddress);
        var options = new DhcpOptionWriter(dhcp.Options);
        options.WriteByte(DhcpOptionCode.MessageType, (byte)type);
        options.WriteUInt32(DhcpOptionCode.ServerIdentifier, _server);
        if (type != DhcpMessageType.Nak)
        {
            if (withLease)
            {
                options.WriteUInt32(DhcpOptionCode.LeaseTime, _leaseSeconds);
                options.WriteUInt32(DhcpOptionCode.RenewalTime, _leaseSeconds / 2);
                options.WriteUInt32(DhcpOptionCode.RebindingTime, (uint)((ulong)_leaseSeconds * 7 / 8));
            }

            options.WriteUInt32(DhcpOptionCode.SubnetMask, Leases.SubnetMask);
            options.WriteUInt32(DhcpOptionCode.Router, _server);
            options.Write(DhcpOptionCode.DomainNameServer, _dnsServers);
        }

        options.WriteEnd();
        var messageLength = Math.Max(MinimumMessageLength, DhcpMessage.MinimumLength + options.Length);
        body[(DhcpMessage.MinimumLength + options.Length)..messageLength].Clear();

        EthernetFrame.WriteHeader(reply, destinationMac, _options.ServerMac, EtherType.Ipv4);
        var ip = Ipv4Packet.WriteHeader(reply[EthernetFrame.UntaggedHeaderLength..], _server, destination, IpProtocol.Udp, UdpDatagram.HeaderLength + messageLength);
        var udp = UdpDatagram.WriteHeader(ip.Payload, DhcpMessage.ServerPort, DhcpMessage.ClientPort, messageLength);
        udp.FillChecksum(udp.PseudoHeaderSum(_server, destination));
        return HeadersLength + messageLength;
    }

    private int Drop(DhcpDropReason reason)
    {
        Counters.CountDropped(reason);
        return 0;
    }

    private void Save()
    {
        if (_options.LeaseFile is not { } path)
        {
            return;
        }

        try
        {
            DhcpLeaseFile.Write(path, Leases.Snapshot());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Counters.CountSaveFailure();
            _options.Log?.Invoke($"dhcp: cannot write the lease file {path}: {e.Message}");
        }
    }
}
