using System.Buffers.Binary;
using Microsoft.Extensions.Time.Testing;
using TunTap.Switching.Dhcp;
using TunTap.Wire;
using static TunTap.Tests.Switching.Dhcp.DhcpFrames;

namespace TunTap.Tests.Switching.Dhcp;

public sealed class DhcpServerTests
{
    private static readonly MacAddress ServerMac = MacAddress.FromValue(0x02_0000_0000_01);
    private static readonly uint Server = Ip("10.0.0.1");

    [Fact]
    public void Discover_from_scapy_gets_an_offer_with_every_option_unicast_to_the_client()
    {
        var server = Create();
        var reply = Exchange(server, Convert.FromHexString(ScapyDiscover));

        Assert.Equal(DhcpMessageType.Offer, reply.Type);
        Assert.Equal(0x1234abcdu, reply.TransactionId);
        Assert.Equal(Ip("10.0.0.150"), reply.YourAddress); // it asked for it
        Assert.Equal(0u, reply.ClientAddress);
        Assert.Equal("52:54:00:12:34:56", reply.ClientMac.ToString());
        Assert.Equal("52:54:00:12:34:56", reply.EthernetDestination.ToString());
        Assert.Equal(ServerMac, reply.EthernetSource);
        Assert.Equal(Server, reply.IpSource);
        Assert.Equal(Ip("10.0.0.150"), reply.IpDestination);
        Assert.Equal(Server, reply.Address(DhcpOptionCode.ServerIdentifier));
        Assert.Equal(Ip("255.255.255.0"), reply.Address(DhcpOptionCode.SubnetMask));
        Assert.Equal(Server, reply.Address(DhcpOptionCode.Router));
        Assert.Equal(Server, reply.Address(DhcpOptionCode.DomainNameServer)); // default: the gateway
        Assert.Equal(3600u, reply.Address(DhcpOptionCode.LeaseTime));
        Assert.Equal(1800u, reply.Address(DhcpOptionCode.RenewalTime));
        Assert.Equal(3150u, reply.Address(DhcpOptionCode.RebindingTime));
        Assert.Equal(300, reply.MessageLength);
        Assert.Equal(1, server.Counters.Offers);
        Assert.Equal(0, server.Counters.Dropped);
    }

    [Fact]
    public void Discover_request_ack_binds_the_offered_address()
    {
        var server = Create();
        var offer = Exchange(server, Client(DhcpMessageType.Discover, Mac(1)));
        Assert.Equal(Ip("10.0.0.100"), offer.YourAddress);

        var ack = Exchange(server, Client(DhcpMessageType.Request, Mac(1), requested: offer.YourAddress, serverId: Server, hostName: "vm-1"));
        Assert.Equal(DhcpMessageType.Ack, ack.Type);
        Assert.Equal(offer.YourAddress, ack.YourAddress);
        Assert.Equal(3600u, ack.Address(DhcpOptionCode.LeaseTime));
        Assert.True(server.Leases.TryGetLease(Mac(1), out var lease));
        Assert.Equal("vm-1", lease.HostName);
        Assert.Equal(1, server.Counters.Acks);

        // Renewing: unicast to the server from the leased address, ciaddr set, no option 50.
        var renew = Exchange(server, Client(DhcpMessageType.Request, Mac(1), clientAddress: offer.YourAddress, source: offer.YourAddress, destination: Server));
        Assert.Equal(DhcpMessageType.Ack, renew.Type);
        Assert.Equal(offer.YourAddress, renew.ClientAddress);
        Assert.Equal(offer.YourAddress, renew.IpDestination);
        Assert.Equal(Mac(1), renew.EthernetDestination);
    }

    [Fact]
    public void Broadcast_flag_gets_broadcast_replies()
    {
        var server = Create();
        var offer = Exchange(server, Client(DhcpMessageType.Discover, Mac(1), broadcast: true));
        Assert.True(offer.Broadcast);
        Assert.Equal(MacAddress.Broadcast, offer.EthernetDestination);
        Assert.Equal(0xFFFF_FFFFu, offer.IpDestination);
    }

    [Fact]
    public void Request_for_an_address_taken_by_another_client_gets_a_broadcast_nak()
    {
        var server = Create();
        Exchange(server, Client(DhcpMessageType.Request, Mac(1), requested: Ip("10.0.0.120")));
        var nak = Exchange(server, Client(DhcpMessageType.Request, Mac(2), requested: Ip("10.0.0.120")));
        Assert.Equal(DhcpMessageType.Nak, nak.Type);
        Assert.Equal(0u, nak.YourAddress);
        Assert.Equal(MacAddress.Broadcast, nak.EthernetDestination);
        Assert.Equal(0xFFFF_FFFFu, nak.IpDestination);
        Assert.Equal(Server, nak.Address(DhcpOptionCode.ServerIdentifier));
        Assert.False(nak.Options.ContainsKey(DhcpOptionCode.LeaseTime));

        // A client that moved from another network (INIT-REBOOT with a foreign address) is told no too.
        Assert.Equal(DhcpMessageType.Nak, Exchange(server, Client(DhcpMessageType.Request, Mac(3), requested: Ip("192.168.7.9"))).Type);
        Assert.Equal(2, server.Counters.Naks);
    }

    [Fact]
    public void Request_for_another_server_is_ignored_and_frees_our_offer()
    {
        var server = Create("10.0.0.100-10.0.0.100");
        Assert.Equal(Ip("10.0.0.100"), Exchange(server, Client(DhcpMessageType.Discover, Mac(1))).YourAddress);
        Assert.Equal(0, Process(server, Client(DhcpMessageType.Request, Mac(1), requested: Ip("10.0.0.100"), serverId: Ip("10.0.0.2"))));
        Assert.Equal(1, server.Counters.GetDropped(DhcpDropReason.OtherServer));
        Assert.Equal(Ip("10.0.0.100"), Exchange(server, Client(DhcpMessageType.Discover, Mac(2))).YourAddress);
    }

    [Fact]
    public void Release_and_decline_are_not_answered_and_change_the_leases()
    {
        var server = Create();
        Exchange(server, Client(DhcpMessageType.Request, Mac(1), requested: Ip("10.0.0.100")));
        Assert.Equal(0, Process(server, Client(DhcpMessageType.Release, Mac(1), clientAddress: Ip("10.0.0.100"), serverId: Server, source: Ip("10.0.0.100"), destination: Server)));
        Assert.Equal(1, server.Counters.Releases);
        Assert.True(server.Leases.TryGetLease(Mac(1), out var released));
        Assert.False(released.IsActive(DateTimeOffset.MaxValue));

        // Released twice: there is no lease to release.
        Assert.Equal(0, Process(server, Client(DhcpMessageType.Release, Mac(1), clientAddress: Ip("10.0.0.100"), serverId: Server)));
        Assert.Equal(1, server.Counters.GetDropped(DhcpDropReason.NoLease));

        Exchange(server, Client(DhcpMessageType.Request, Mac(2), requested: Ip("10.0.0.101")));
        Assert.Equal(0, Process(server, Client(DhcpMessageType.Decline, Mac(2), requested: Ip("10.0.0.101"), serverId: Server)));
        Assert.Equal(1, server.Counters.Declines);
        Assert.False(server.Leases.TryGetLease(Mac(2), out _));
        Assert.NotEqual(Ip("10.0.0.101"), Exchange(server, Client(DhcpMessageType.Discover, Mac(3))).YourAddress);
    }

    [Fact]
    public void Inform_gets_parameters_without_a_lease_at_its_own_address()
    {
        var server = Create();
        var ack = Exchange(server, Client(DhcpMessageType.Inform, Mac(1), clientAddress: Ip("10.0.0.7"), source: Ip("10.0.0.7"), destination: Server));
        Assert.Equal(DhcpMessageType.Ack, ack.Type);
        Assert.Equal(0u, ack.YourAddress);
        Assert.Equal(Ip("10.0.0.7"), ack.ClientAddress);
        Assert.Equal(Ip("10.0.0.7"), ack.IpDestination);
        Assert.False(ack.Options.ContainsKey(DhcpOptionCode.LeaseTime));
        Assert.Equal(Ip("255.255.255.0"), ack.Address(DhcpOptionCode.SubnetMask));
        Assert.Equal(1, server.Counters.Informs);
        Assert.Equal(0, server.Leases.Count);
    }

    [Fact]
    public void Dns_servers_and_lease_time_come_from_the_options()
    {
        var server = Create(options: o => o with { DnsServers = [System.Net.IPAddress.Parse("9.9.9.9"), System.Net.IPAddress.Parse("10.0.0.53")], LeaseTime = TimeSpan.FromMinutes(10) });
        var offer = Exchange(server, Client(DhcpMessageType.Discover, Mac(1)));
        Assert.Equal(Convert.FromHexString("090909090A000035"), offer.Options[DhcpOptionCode.DomainNameServer]);
        Assert.Equal(600u, offer.Address(DhcpOptionCode.LeaseTime));
        Assert.Equal(300u, offer.Address(DhcpOptionCode.RenewalTime));
        Assert.Equal(525u, offer.Address(DhcpOptionCode.RebindingTime));
    }

    [Fact]
    public void Bad_messages_are_dropped_with_their_reason()
    {
        var server = Create();
        var badChecksum = Client(DhcpMessageType.Discover, Mac(1));
        badChecksum[^1] ^= 0x55;
        Assert.Equal(0, Process(server, badChecksum));
        Assert.Equal(1, server.Counters.GetDropped(DhcpDropReason.BadIpOrUdp));

        Assert.Equal(0, Process(server, Client(DhcpMessageType.Discover, Mac(1), op: DhcpMessage.BootReply)));
        Assert.Equal(1, server.Counters.GetDropped(DhcpDropReason.NotRequest));

        Assert.Equal(0, Process(server, Client(DhcpMessageType.Discover, MacAddress.Broadcast)));
        Assert.Equal(1, server.Counters.GetDropped(DhcpDropReason.BadHardwareAddress));

        Assert.Equal(0, Process(server, Client(DhcpMessageType.Discover, Mac(1), relay: Ip("10.9.9.9"))));
        Assert.Equal(1, server.Counters.GetDropped(DhcpDropReason.Relayed));

        Assert.Equal(0, Process(server, Client(DhcpMessageType.Offer, Mac(1))));
        Assert.Equal(0, Process(server, Client((DhcpMessageType)77, Mac(1))));
        Assert.Equal(2, server.Counters.GetDropped(DhcpDropReason.BadMessageType));

        Assert.Equal(0, Process(server, Client(DhcpMessageType.Request, Mac(1))));
        Assert.Equal(1, server.Counters.GetDropped(DhcpDropReason.NoAddress));

        var bootp = Client(DhcpMessageType.Discover, Mac(1));
        bootp[42 + DhcpMessage.Field.MagicCookie] = 0;
        FixUdpChecksum(bootp);
        Assert.Equal(0, Process(server, bootp));
        Assert.Equal(1, server.Counters.GetDropped(DhcpDropReason.Malformed));

        var small = new byte[100];
        Assert.Equal(0, server.Process(Client(DhcpMessageType.Discover, Mac(1)), small));
        Assert.Equal(1, server.Counters.GetDropped(DhcpDropReason.NoRoom));

        Assert.Equal(9, server.Counters.Dropped);
        Assert.Equal(9, server.Counters.Received);
    }

    [Fact]
    public void Frames_not_for_the_server_port_are_left_alone_and_not_counted()
    {
        var server = Create();
        var toClientPort = Client(DhcpMessageType.Discover, Mac(1));
        BinaryPrimitives.WriteUInt16BigEndian(toClientPort.AsSpan(42 - 8 + 2), 68);
        Assert.Equal(0, Process(server, toClientPort));
        var elsewhere = Client(DhcpMessageType.Discover, Mac(1), destination: Ip("10.0.0.9"));
        Assert.Equal(0, Process(server, elsewhere));
        Assert.Equal(0, Process(server, new byte[60]));
        Assert.Equal(0, server.Counters.Received);
    }

    [Fact]
    public void Pool_exhaustion_is_a_counted_drop()
    {
        var server = Create("10.0.0.100-10.0.0.100");
        Exchange(server, Client(DhcpMessageType.Discover, Mac(1)));
        Assert.Equal(0, Process(server, Client(DhcpMessageType.Discover, Mac(2))));
        Assert.Equal(1, server.Counters.GetDropped(DhcpDropReason.PoolExhausted));
    }

    [Fact]
    public void Leases_survive_a_restart_through_the_lease_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tt-dhcp-{Guid.NewGuid():N}", "leases");
        try
        {
            var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
            var first = Create(options: o => o with { LeaseFile = path }, time: time);
            var offer = Exchange(first, Client(DhcpMessageType.Discover, Mac(7)));
            Assert.False(File.Exists(path)); // an offer is not saved
            Exchange(first, Client(DhcpMessageType.Request, Mac(7), requested: offer.YourAddress, serverId: Server));
            Assert.Contains($"{Mac(7)} 10.0.0.100 ", File.ReadAllText(path), StringComparison.Ordinal);
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp"));

            // A new server (restart) with the same file: another client does not get the address,
            // the same one does.
            var second = Create(options: o => o with { LeaseFile = path }, time: time);
            Assert.Equal(Ip("10.0.0.101"), Exchange(second, Client(DhcpMessageType.Discover, Mac(8))).YourAddress);
            Assert.Equal(Ip("10.0.0.100"), Exchange(second, Client(DhcpMessageType.Discover, Mac(7))).YourAddress);
            Assert.Equal(DhcpMessageType.Nak, Exchange(second, Client(DhcpMessageType.Request, Mac(8), requested: Ip("10.0.0.100"))).Type);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void Options_that_do_not_fit_together_are_user_errors()
    {
        Assert.Throws<TunTapException>(() => Create("10.0.1.100-10.0.1.200"));
        Assert.Throws<TunTapException>(() => Create(options: o => o with { Gateway = InterfaceAddress.Parse("fd00::1/64") }));
        Assert.Throws<TunTapException>(() => Create(options: o => o with { Gateway = InterfaceAddress.Parse("10.0.0.1/31") }));
        Assert.Throws<TunTapException>(() => Create(options: o => o with { LeaseTime = TimeSpan.FromSeconds(1) }));
        Assert.Throws<TunTapException>(() => Create(options: o => o with { DnsServers = [System.Net.IPAddress.IPv6Loopback] }));
        Assert.Throws<TunTapException>(() => Create(options: o => o with { Reservations = [new DhcpReservation(Mac(1), Ip("10.0.0.1"))] }));
        Assert.Throws<TunTapException>(() => Create("10.0.0.0-10.0.0.10"));
    }

    private static DhcpServer Create(string range = "10.0.0.100-10.0.0.200", Func<DhcpServerOptions, DhcpServerOptions>? options = null, TimeProvider? time = null)
    {
        Assert.True(DhcpRange.TryParse(range, out var parsed, out var error), error);
        var o = new DhcpServerOptions { Gateway = InterfaceAddress.Parse("10.0.0.1/24"), ServerMac = ServerMac, Range = parsed };
        return new DhcpServer(options is null ? o : options(o), time ?? new FakeTimeProvider());
    }

    private static int Process(DhcpServer server, byte[] frame) => server.Process(frame, new byte[1518]);

    private static Reply Exchange(DhcpServer server, byte[] frame)
    {
        var buffer = new byte[1518];
        var length = server.Process(frame, buffer);
        Assert.True(length > 0, "no reply");
        Assert.True(length <= server.MaxReplyLength);
        return Parse(buffer.AsSpan(0, length));
    }

    private static void FixUdpChecksum(byte[] frame)
    {
        Assert.True(Ipv4Packet.TryCreate(frame.AsSpan(14), out var ip));
        Assert.True(UdpDatagram.TryCreate(ip.Payload, out var udp));
        udp.FillChecksum(udp.PseudoHeaderSum(ip.Source, ip.Destination));
    }
}
