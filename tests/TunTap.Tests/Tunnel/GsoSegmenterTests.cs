using System.Buffers.Binary;
using CsCheck;
using TunTap.Buffers;
using TunTap.Devices;
using TunTap.Wire;

namespace TunTap.Tests.Tunnel;

public sealed class GsoSegmenterTests
{
    private const TcpFlags Fin = TcpFlags.Fin;

    [Fact]
    public void Super_packet_of_64_KiB_becomes_mss_sized_segments_with_valid_checksums()
    {
        var payload = new byte[65_535 - 20 - 32];
        new Random(3).NextBytes(payload);
        var super = TcpPackets.Build(ipv6: false, tap: false, payload, TcpFlags.Ack | TcpFlags.Psh);
        var destination = new byte[100_000];
        Assert.True(GsoSegmenter.TrySegment(super, TcpPackets.SuperHeader(false, false, 1448), 0, destination, 4, out var segments));
        Assert.Equal((payload.Length + 1447) / 1448, segments.Count);
        Assert.Equal(20 + 32 + 1448, segments.SegmentLength);
        Assert.Equal(4 + 20 + 32 + 1448, segments.Stride);
        var last = destination.AsSpan(segments.OffsetOf(segments.Count - 1), segments.LastLength);
        Assert.Equal((byte)(TcpFlags.Ack | TcpFlags.Psh), last[20 + 13]);
        var first = destination.AsSpan(segments.OffsetOf(0), segments.SegmentLength);
        Assert.Equal((byte)TcpFlags.Ack, first[20 + 13]);
        Assert.True(TcpPackets.TcpChecksumValid(first, false, false));
        Assert.True(TcpPackets.TcpChecksumValid(last, false, false));
    }

    [Fact]
    public void Segmenting_property_payload_reassembles_lengths_ids_sequence_flags_and_checksums_are_right()
    {
        var gen = Gen.Select(Gen.Bool, Gen.Bool, Gen.Int[1, 1500], Gen.Int[0, 12_000], Gen.Int[0, 15]);
        gen.Sample((ipv6, tap, mss, length, flagBits) =>
        {
            var payload = new byte[length];
            new Random(length ^ mss).NextBytes(payload);
            var flags = TcpFlags.Ack
                | ((flagBits & 1) != 0 ? TcpFlags.Psh : 0)
                | ((flagBits & 2) != 0 ? Fin : 0)
                | ((flagBits & 4) != 0 ? TcpFlags.Cwr : 0);
            var super = TcpPackets.Build(ipv6, tap, payload, flags);
            var header = TcpPackets.SuperHeader(ipv6, tap, mss);
            var networkOffset = GsoSegmenter.NetworkOffset(tap ? DeviceMode.Tap : DeviceMode.Tun, super);
            var needed = GsoSegmenter.SegmentedLength(super, header, networkOffset, 4);
            var destination = new byte[needed];
            Assert.True(GsoSegmenter.TrySegment(super, header, networkOffset, destination, 4, out var segments));
            Assert.Equal(needed, segments.TotalLength);
            Assert.Equal(length == 0 ? 1 : (length + mss - 1) / mss, segments.Count);

            var tcp = TcpPackets.TcpOffset(ipv6, tap);
            var headerLength = tcp + 32;
            var reassembled = new List<byte>();
            for (var i = 0; i < segments.Count; i++)
            {
                var segment = destination.AsSpan(segments.OffsetOf(i), segments.LengthOf(i));
                Assert.True(segment.Length - headerLength <= mss);
                Assert.Equal(super.AsSpan(0, networkOffset).ToArray(), segment[..networkOffset].ToArray());
                var ip = segment[networkOffset..];
                if (ipv6)
                {
                    Assert.Equal(ip.Length - 40, BinaryPrimitives.ReadUInt16BigEndian(ip[4..]));
                }
                else
                {
                    Assert.Equal(ip.Length, BinaryPrimitives.ReadUInt16BigEndian(ip[2..]));
                    Assert.Equal((ushort)(TcpPackets.Identification + i), BinaryPrimitives.ReadUInt16BigEndian(ip[4..]));
                    Assert.True(InternetChecksum.IsValid(InternetChecksum.Add(0, ip[..20])));
                }

                Assert.Equal(unchecked(TcpPackets.Sequence + (uint)(i * mss)), BinaryPrimitives.ReadUInt32BigEndian(segment[(tcp + 4)..]));
                var segmentFlags = (TcpFlags)segment[tcp + 13];
                var isLast = i == segments.Count - 1;
                Assert.Equal(isLast && flags.HasFlag(Fin), segmentFlags.HasFlag(Fin));
                Assert.Equal(isLast && flags.HasFlag(TcpFlags.Psh), segmentFlags.HasFlag(TcpFlags.Psh));
                Assert.Equal(i == 0 && flags.HasFlag(TcpFlags.Cwr), segmentFlags.HasFlag(TcpFlags.Cwr));
                Assert.True(segmentFlags.HasFlag(TcpFlags.Ack));
                Assert.True(TcpPackets.TcpChecksumValid(segment, tap, ipv6), $"segment {i} checksum");
                reassembled.AddRange(segment[headerLength..].ToArray());
            }

            Assert.Equal(payload, reassembled.ToArray());
        }, iter: 300);
    }

    [Fact]
    public void Coalescing_the_segments_gives_back_a_super_packet_that_segments_the_same_way()
    {
        var gen = Gen.Select(Gen.Bool, Gen.Bool, Gen.Int[200, 1500], Gen.Int[1, 60_000], Gen.Bool);
        gen.Sample((ipv6, tap, mss, length, push) =>
        {
            var payload = new byte[length];
            new Random(length + mss).NextBytes(payload);
            var super = TcpPackets.Build(ipv6, tap, payload, TcpFlags.Ack | (push ? TcpFlags.Psh : 0));
            var header = TcpPackets.SuperHeader(ipv6, tap, mss);
            var mode = tap ? DeviceMode.Tap : DeviceMode.Tun;
            var segmentsBytes = new byte[GsoSegmenter.SegmentedLength(super, header, GsoSegmenter.NetworkOffset(mode, super), 0)];
            Assert.True(GsoSegmenter.TrySegment(super, header, GsoSegmenter.NetworkOffset(mode, super), segmentsBytes, 0, out var segments));

            using var input = new PacketBatch(320, VirtioNetHeader.Size + 1600);
            for (var i = 0; i < segments.Count; i++)
            {
                Assert.True(input.TryAdd(TcpPackets.WithBlankHeader(segmentsBytes.AsSpan(segments.OffsetOf(i), segments.LengthOf(i)))));
            }

            using var output = new PacketBatch(4, VirtioNetHeader.Size + 65_600);
            var coalescer = new TcpCoalescer(mode, 4);
            Assert.Equal(input.Count, coalescer.Coalesce(input, 0, output));
            Assert.Equal(1, output.Count);
            Assert.Equal(segments.Count, coalescer.SegmentsOf(0));
            var merged = output[0];
            Assert.True(VirtioNetHeader.TryCreate(merged, out var mergedHeader));
            var body = merged[VirtioNetHeader.Size..];
            Assert.Equal(super.Length, body.Length);
            Assert.Equal(super.AsSpan(TcpPackets.TcpOffset(ipv6, tap) + 32).ToArray(), body[(TcpPackets.TcpOffset(ipv6, tap) + 32)..].ToArray());
            if (segments.Count == 1)
            {
                Assert.Equal(VirtioNetHeader.None, mergedHeader);
                return;
            }

            Assert.Equal(header, mergedHeader);
            var again = new byte[segmentsBytes.Length];
            Assert.True(GsoSegmenter.TrySegment(body, mergedHeader, GsoSegmenter.NetworkOffset(mode, body), again, 0, out var againSegments));
            Assert.Equal(segments, againSegments);
            Assert.Equal(segmentsBytes, again);
        }, iter: 150);
    }

    [Fact]
    public void Coalescer_keeps_other_packets_and_flows_in_order_and_never_merges_across_a_gap()
    {
        var payload = new byte[1000];
        var a1 = TcpPackets.Build(false, false, payload, TcpFlags.Ack, sequence: 1000);
        var a2 = TcpPackets.Build(false, false, payload, TcpFlags.Ack, sequence: 2000);
        var gap = TcpPackets.Build(false, false, payload, TcpFlags.Ack, sequence: 5000);
        var fin = TcpPackets.Build(false, false, payload, TcpFlags.Ack | Fin, sequence: 6000);
        var after = TcpPackets.Build(false, false, payload, TcpFlags.Ack, sequence: 7000);
        byte[] udp = [0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 9, 0, 2, 10, 9, 0, 1, 0, 53, 0, 53, 0, 8, 0, 0];
        using var input = new PacketBatch(16, 1600);
        foreach (var packet in new[] { a1, a2, udp, gap, fin, after })
        {
            input.TryAdd(TcpPackets.WithBlankHeader(packet));
        }

        using var output = new PacketBatch(16, 70_000);
        var coalescer = new TcpCoalescer(DeviceMode.Tun, 16);
        Assert.Equal(6, coalescer.Coalesce(input, 0, output));
        Assert.Equal(5, output.Count);
        Assert.Equal(2, coalescer.SegmentsOf(0));
        Assert.Equal(udp, output[1][VirtioNetHeader.Size..].ToArray());
        Assert.Equal(gap, output[2][VirtioNetHeader.Size..].ToArray());
        Assert.Equal(fin, output[3][VirtioNetHeader.Size..].ToArray());
        Assert.Equal(after, output[4][VirtioNetHeader.Size..].ToArray());
    }

    [Fact]
    public void Partial_checksum_is_completed()
    {
        var packet = TcpPackets.Build(false, false, new byte[333], TcpFlags.Ack);
        var tcp = TcpPackets.TcpOffset(false, false);
        // What the kernel hands over with NEEDS_CSUM: the pseudo-header sum in the checksum field.
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(tcp + 16), InternetChecksum.Fold(TcpPackets.PseudoSum(packet, false, false, packet.Length - tcp)));
        Assert.False(TcpPackets.TcpChecksumValid(packet, false, false));
        var header = new VirtioNetHeader(VirtioNetHeaderFlags.NeedsChecksum, VirtioGsoType.None, 0, 0, (ushort)tcp, 16);
        Assert.True(GsoSegmenter.TryCompleteChecksum(packet, header));
        Assert.True(TcpPackets.TcpChecksumValid(packet, false, false));
        Assert.False(GsoSegmenter.TryCompleteChecksum(packet, header with { ChecksumOffset = 5000 }));
    }

    [Fact]
    public void Not_a_tcp_super_packet_is_refused()
    {
        var packet = TcpPackets.Build(false, false, new byte[3000], TcpFlags.Ack);
        var header = TcpPackets.SuperHeader(false, false, 1000);
        var destination = new byte[10_000];
        Assert.False(GsoSegmenter.TrySegment(packet, header with { GsoType = VirtioGsoType.UdpL4 }, 0, destination, 0, out _));
        Assert.False(GsoSegmenter.TrySegment(packet, header with { GsoSize = 0 }, 0, destination, 0, out _));
        Assert.False(GsoSegmenter.TrySegment(packet, header with { ChecksumStart = 24 }, 0, destination, 0, out _));
        Assert.False(GsoSegmenter.TrySegment(packet, header with { GsoType = VirtioGsoType.TcpV6 }, 0, destination, 0, out _));
        Assert.False(GsoSegmenter.TrySegment(packet.AsSpan(0, 40), header, 0, destination, 0, out _));
        Assert.False(GsoSegmenter.TrySegment(packet, header, 0, destination.AsSpan(0, 100), 0, out _));
        Assert.True(GsoSegmenter.TrySegment(packet, header, 0, destination, 0, out var segments));
        Assert.Equal(3, segments.Count);
    }
}
