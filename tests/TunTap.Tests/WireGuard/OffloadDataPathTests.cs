using System.Buffers.Binary;
using TunTap.Devices;
using TunTap.Tests.Tunnel;
using TunTap.Wire;
using static TunTap.Tests.WireGuard.DevicePair;

namespace TunTap.Tests.WireGuard;

/// <summary>Two devices whose TUN side carries virtio-net headers: super packets in, segments sealed one by one, coalesced super packets out.</summary>
public sealed class OffloadDataPathTests
{
    private const int Mss = 1300;

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task Tcp_super_packet_is_cut_sealed_and_arrives_coalesced_with_every_byte_in_order(bool ipv6, bool parallelEncryption)
    {
        await using var pair = Create(vnetHeader: true, parallelEncryption: parallelEncryption);
        pair.TunA.Inject(TcpPackets.WithBlankHeader(Ipv4("10.0.0.1", "10.0.0.2", 10)));
        var first = await pair.TunB.ReadWrittenAsync(Patience);
        Assert.Equal(TcpPackets.WithBlankHeader(Ipv4("10.0.0.1", "10.0.0.2", 10)), first);

        var payload = new byte[20 * Mss];
        new Random(5).NextBytes(payload);
        var super = TcpPackets.Build(ipv6, tap: false, payload, TcpFlags.Ack | TcpFlags.Psh);
        pair.TunA.Inject(TcpPackets.WithHeader(TcpPackets.SuperHeader(ipv6, tap: false, Mss), super));

        var tcp = TcpPackets.TcpOffset(ipv6, tap: false);
        var received = new List<byte>();
        var sequence = TcpPackets.Sequence;
        var writes = 0;
        while (received.Count < payload.Length && writes < 40)
        {
            var packet = await pair.TunB.ReadWrittenAsync(Patience);
            writes++;
            Assert.True(VirtioNetHeader.TryCreate(packet, out var header));
            var body = packet.AsSpan(VirtioNetHeader.Size);
            foreach (var segment in Segments(body, header))
            {
                Assert.True(TcpPackets.TcpChecksumValid(segment, tap: false, ipv6));
                Assert.Equal(sequence, BinaryPrimitives.ReadUInt32BigEndian(segment.AsSpan(tcp + 4)));
                var data = segment.AsSpan(tcp + 32);
                Assert.True(data.Length <= Mss);
                received.AddRange(data.ToArray());
                sequence += (uint)data.Length;
            }
        }

        Assert.Equal(payload, received.ToArray());
        Assert.True(writes < 20, $"{writes} writes for 20 segments: nothing was coalesced");
        Assert.Equal(0, pair.A.Counters.Dropped);
        Assert.Equal(0, pair.B.Counters.Dropped);
        Assert.Equal(21, pair.B.Counters.DataPacketsReceived);
    }

    [Fact]
    public async Task Back_to_back_super_packets_and_a_plain_packet_arrive_as_one_ordered_stream()
    {
        await using var pair = Create(vnetHeader: true);
        pair.TunA.Inject(TcpPackets.WithBlankHeader(Ipv4("10.0.0.1", "10.0.0.2", 10)));
        await pair.TunB.ReadWrittenAsync(Patience);

        // Two super packets of 126 small segments each, then a plain segment: one TUN read's worth.
        const int SmallMss = 500;
        var payload = new byte[(2 * 126 * SmallMss) + 200];
        new Random(9).NextBytes(payload);
        var half = 126 * SmallMss;
        var header = TcpPackets.SuperHeader(ipv6: false, tap: false, SmallMss);
        pair.TunA.Inject(TcpPackets.WithHeader(header, TcpPackets.Build(false, false, payload.AsSpan(0, half), TcpFlags.Ack)));
        pair.TunA.Inject(TcpPackets.WithHeader(header, TcpPackets.Build(false, false, payload.AsSpan(half, half), TcpFlags.Ack, TcpPackets.Sequence + (uint)half)));
        pair.TunA.Inject(TcpPackets.WithBlankHeader(TcpPackets.Build(false, false, payload.AsSpan(2 * half), TcpFlags.Ack | TcpFlags.Psh, TcpPackets.Sequence + (uint)(2 * half))));

        var received = new List<byte>();
        var sequence = TcpPackets.Sequence;
        for (var writes = 0; received.Count < payload.Length && writes < 300; writes++)
        {
            var packet = await pair.TunB.ReadWrittenAsync(Patience);
            Assert.True(VirtioNetHeader.TryCreate(packet, out var written));
            foreach (var segment in Segments(packet.AsSpan(VirtioNetHeader.Size), written, SmallMss))
            {
                Assert.True(TcpPackets.TcpChecksumValid(segment, tap: false, ipv6: false));
                Assert.Equal(sequence, BinaryPrimitives.ReadUInt32BigEndian(segment.AsSpan(20 + 4)));
                received.AddRange(segment.AsSpan(20 + 32).ToArray());
                sequence += (uint)(segment.Length - 20 - 32);
            }
        }

        Assert.Equal(payload, received.ToArray());
        Assert.Equal(0, pair.A.Counters.Dropped);
        Assert.Equal(0, pair.B.Counters.Dropped);
    }

    [Fact]
    public async Task Plain_packets_with_a_partial_checksum_arrive_complete()
    {
        await using var pair = Create(vnetHeader: true);
        var payload = new byte[300];
        new Random(7).NextBytes(payload);
        var packet = TcpPackets.Build(ipv6: false, tap: false, payload, TcpFlags.Ack);
        // As the kernel hands it over with TUN_F_CSUM: the field holds only the pseudo-header sum.
        var tcp = TcpPackets.TcpOffset(ipv6: false, tap: false);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(tcp + 16), InternetChecksum.Fold(TcpPackets.PseudoSum(packet, tap: false, ipv6: false, packet.Length - tcp)));
        var header = new VirtioNetHeader(VirtioNetHeaderFlags.NeedsChecksum, VirtioGsoType.None, 0, 0, (ushort)tcp, 16);
        pair.TunA.Inject(TcpPackets.WithHeader(header, packet));

        var written = await pair.TunB.ReadWrittenAsync(Patience);
        Assert.True(VirtioNetHeader.TryCreate(written, out var received));
        Assert.Equal(VirtioNetHeader.None, received);
        Assert.True(TcpPackets.TcpChecksumValid(written.AsSpan(VirtioNetHeader.Size), tap: false, ipv6: false));
        Assert.Equal(payload, written.AsSpan(VirtioNetHeader.Size + tcp + 32).ToArray());
    }

    [Fact]
    public async Task Non_tcp_packets_pass_both_ways_behind_blank_headers()
    {
        await using var pair = Create(vnetHeader: true);
        for (var size = 0; size <= 1400; size += 200)
        {
            var there = Ipv4("10.0.0.1", "10.0.0.2", size, (byte)size);
            var back = Ipv6("fd00::2", "fd00::1", size);
            pair.TunA.Inject(TcpPackets.WithBlankHeader(there));
            Assert.Equal(TcpPackets.WithBlankHeader(there), await pair.TunB.ReadWrittenAsync(Patience));
            pair.TunB.Inject(TcpPackets.WithBlankHeader(back));
            Assert.Equal(TcpPackets.WithBlankHeader(back), await pair.TunA.ReadWrittenAsync(Patience));
        }
    }

    /// <summary>The packets a written packet stands for: itself, or the segments of a super packet.</summary>
    private static List<byte[]> Segments(ReadOnlySpan<byte> body, VirtioNetHeader header, int mss = Mss)
    {
        if (header.GsoType == VirtioGsoType.None)
        {
            Assert.True(GsoSegmenter.TryCompleteChecksum(body.ToArray(), header));
            return [body.ToArray()];
        }

        Assert.Equal(mss, header.GsoSize);
        var destination = new byte[GsoSegmenter.SegmentedLength(body, header, 0, 0)];
        Assert.True(GsoSegmenter.TrySegment(body, header, 0, destination, 0, out var segments));
        var list = new List<byte[]>();
        for (var i = 0; i < segments.Count; i++)
        {
            list.Add(destination.AsSpan(segments.OffsetOf(i), segments.LengthOf(i)).ToArray());
        }

        return list;
    }
}
