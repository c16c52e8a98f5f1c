using CsCheck;
using Microsoft.Extensions.Time.Testing;
using TunTap.Switching.Dhcp;
using TunTap.Wire;
using static TunTap.Tests.Switching.Dhcp.DhcpFrames;

namespace TunTap.Tests.Switching.Dhcp;

public sealed class DhcpPropertyTests
{
    [Fact]
    public void Random_bytes_never_throw_from_the_message_view_or_the_server()
    {
        var server = new DhcpServer(new DhcpServerOptions { Gateway = InterfaceAddress.Parse("10.0.0.1/24"), ServerMac = MacAddress.FromValue(0x02_0000_0000_01), Range = new DhcpRange(Ip("10.0.0.100"), Ip("10.0.0.110")) }, new FakeTimeProvider());
        var reply = new byte[1518];
        Gen.Byte.Array[0, 700].Sample(bytes =>
        {
            if (DhcpMessage.TryCreate((ReadOnlySpan<byte>)bytes, out var message))
            {
                _ = message.MessageType;
                _ = message.TryGetOption(DhcpOptionCode.HostName, out _);
                _ = message.GetAddressOption(DhcpOptionCode.RequestedAddress);
            }

            _ = server.Process(bytes, reply);

            // The same bytes as the payload of a valid UDP datagram to the server port.
            var frame = new byte[42 + bytes.Length];
            EthernetFrame.WriteHeader(frame, MacAddress.Broadcast, Mac(1), EtherType.Ipv4);
            var ip = Ipv4Packet.WriteHeader(frame.AsSpan(14), 0, 0xFFFF_FFFF, IpProtocol.Udp, 8 + bytes.Length);
            var udp = UdpDatagram.WriteHeader(ip.Payload, DhcpMessage.ClientPort, DhcpMessage.ServerPort, bytes.Length);
            bytes.CopyTo(udp.Payload);
            udp.FillChecksum(udp.PseudoHeaderSum(0, 0xFFFF_FFFF));
            var written = server.Process(frame, reply);
            Assert.True(written == 0 || Parse(reply.AsSpan(0, written)).Type is DhcpMessageType.Offer or DhcpMessageType.Ack or DhcpMessageType.Nak);
        }, iter: 3000, threads: 1);
        Assert.True(server.Counters.Received >= 3000);
    }

    [Fact]
    public void Mutated_client_messages_never_throw_and_every_reply_parses()
    {
        var server = new DhcpServer(new DhcpServerOptions { Gateway = InterfaceAddress.Parse("10.0.0.1/24"), ServerMac = MacAddress.FromValue(0x02_0000_0000_01), Range = new DhcpRange(Ip("10.0.0.100"), Ip("10.0.0.104")) }, new FakeTimeProvider());
        var reply = new byte[1518];
        var kinds = new[] { DhcpMessageType.Discover, DhcpMessageType.Request, DhcpMessageType.Release, DhcpMessageType.Decline, DhcpMessageType.Inform };

        // Mutations land after the UDP header, so the checksum is fixed to reach the DHCP code.
        Gen.Select(Gen.Int[0, 4], Gen.Int[1, 8], Gen.Int[0, 299], Gen.Byte, Gen.Int[0, 300]).Sample((kind, mac, at, value, cut) =>
        {
            var frame = Client(kinds[kind], Mac(mac), requested: Ip("10.0.0.100") + (uint)(at % 6), clientAddress: at % 3 == 0 ? Ip("10.0.0.101") : 0, serverId: at % 2 == 0 ? Ip("10.0.0.1") : 0);
            frame[42 + at] = value;
            var length = frame.Length - (cut % 7 == 0 ? cut : 0);
            if (length >= 42)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), (ushort)(length - 14));
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(38), (ushort)(length - 34));
                Assert.True(Ipv4Packet.TryCreate(frame.AsSpan(14, length - 14), out var ip));
                ip.FillHeaderChecksum();
                Assert.True(UdpDatagram.TryCreate(ip.Payload, out var udp));
                udp.FillChecksum(udp.PseudoHeaderSum(ip.Source, ip.Destination));
            }

            var written = server.Process(frame.AsSpan(0, Math.Max(0, length)), reply);
            if (written > 0)
            {
                var parsed = Parse(reply.AsSpan(0, written));
                Assert.True(parsed.Type is DhcpMessageType.Offer or DhcpMessageType.Ack or DhcpMessageType.Nak);
            }
        }, iter: 3000, threads: 1);
        Assert.True(server.Counters.Offers + server.Counters.Acks > 0);
    }

    [Fact]
    public void Lease_table_never_gives_one_address_to_two_clients_or_leaves_the_pool()
    {
        var operation = Gen.Select(Gen.Int[0, 5], Gen.Int[1, 12], Gen.Int[0, 12], Gen.Int[0, 400]);
        operation.Array[1, 200].Sample(operations =>
        {
            var time = new FakeTimeProvider();
            var reserved = new DhcpReservation(Mac(12), Ip("10.0.0.50"));
            var table = new DhcpLeaseTable(Ip("10.0.0.1"), 24, new DhcpRange(Ip("10.0.0.100"), Ip("10.0.0.107")), [reserved], TimeSpan.FromMinutes(5), time) { OfferHold = TimeSpan.FromSeconds(30) };
            foreach (var (kind, client, pick, advance) in operations)
            {
                var address = pick == 0 ? Ip("10.0.0.1") : Ip("10.0.0.99") + (uint)pick;
                switch (kind)
                {
                    case 0: table.Offer(Mac(client), address); break;
                    case 1: table.Acknowledge(Mac(client), address); break;
                    case 2: table.Acknowledge(Mac(client), table.Offer(Mac(client), 0)); break;
                    case 3: table.Release(Mac(client), address); break;
                    case 4: table.Decline(Mac(client), address); break;
                    default: time.Advance(TimeSpan.FromSeconds(advance)); break;
                }

                var now = time.GetUtcNow();
                var seen = new HashSet<uint>();
                foreach (var lease in table.Snapshot())
                {
                    Assert.True(seen.Add(lease.Address), $"{lease.Address} bound twice");
                    Assert.NotEqual(Ip("10.0.0.1"), lease.Address);
                    Assert.True(table.Range.Contains(lease.Address) || (lease.Address == reserved.Address && lease.Mac == reserved.Mac), $"{lease} outside the pool");
                    Assert.True(lease.Expires <= now + table.LeaseTime);
                }

                Assert.True(table.Count <= 9);
            }
        }, iter: 300);
    }
}
