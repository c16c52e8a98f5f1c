using System.Buffers.Binary;
using CsCheck;
using TunTap.Buffers;
using TunTap.Devices;
using TunTap.Wire;

namespace TunTap.Tests.Tunnel;

/// <summary>
/// The zero-copy UDP data path against the copying one it replaced: segment headers plus payload
/// slices equal <see cref="GsoSegmenter.TrySegment"/>'s segments (partial checksums once completed
/// as the kernel would), and gather coalescing equals <see cref="TcpCoalescer"/>.
/// </summary>
public sealed class ZeroCopySegmentTests
{
    [Fact]
    public void Segment_headers_with_payload_slices_equal_copied_segments_with_full_or_completed_partial_checksums()
    {
        var gen = Gen.Select(Gen.Bool, Gen.Bool, Gen.Int[1, 1500], Gen.Int[0, 12_000], Gen.Bool);
        gen.Sample((ipv6, tap, mss, length, partial) =>
        {
            var payload = new byte[length];
            new Random(length ^ mss).NextBytes(payload);
            var super = TcpPackets.Build(ipv6, tap, payload, TcpFlags.Ack | TcpFlags.Psh | TcpFlags.Cwr);
            var header = TcpPackets.SuperHeader(ipv6, tap, mss);
            var networkOffset = GsoSegmenter.NetworkOffset(tap ? DeviceMode.Tap : DeviceMode.Tun, super);
            var copied = new byte[GsoSegmenter.SegmentedLength(super, header, networkOffset, 4)];
            Assert.True(GsoSegmenter.TrySegment(super, header, networkOffset, copied, 4, out var segments));

            var headers = new byte[segments.Count * (4 + 14 + 40 + 32)];
            Assert.True(GsoSegmenter.TryWriteSegmentHeaders(super, header, networkOffset, headers, 4, partial, out var layout));
            Assert.Equal(segments.Count, layout.Count);
            if (layout.Count > 1)
            {
                Assert.Equal(segments.Stride, layout.WireSegmentLength);
            }

            var tcp = TcpPackets.TcpOffset(ipv6, tap);
            for (var i = 0; i < layout.Count; i++)
            {
                var (offset, size) = layout.PayloadOf(i);
                byte[] segment = [.. headers.AsSpan(layout.HeadersOffsetOf(i), layout.HeaderLength), .. super.AsSpan(offset, size)];
                Assert.Equal(segments.LengthOf(i), layout.LengthOf(i));
                var expected = copied.AsSpan(segments.OffsetOf(i), segments.LengthOf(i)).ToArray();
                if (partial)
                {
                    Assert.True(GsoSegmenter.TryCompleteChecksum(segment, new VirtioNetHeader(VirtioNetHeaderFlags.NeedsChecksum, VirtioGsoType.None, 0, 0, (ushort)tcp, 16)));
                    if (BinaryPrimitives.ReadUInt16BigEndian(expected.AsSpan(tcp + 16)) == 0)
                    {
                        // Completing writes 0xFFFF for a zero sum (the same in ones' complement).
                        BinaryPrimitives.WriteUInt16BigEndian(expected.AsSpan(tcp + 16), 0xFFFF);
                    }
                }

                Assert.Equal(expected, segment);
            }
        }, iter: 300);
    }

    [Fact]
    public void Segment_headers_that_do_not_fit_are_refused_without_writing()
    {
        var super = TcpPackets.Build(false, false, new byte[10_000], TcpFlags.Ack);
        var header = TcpPackets.SuperHeader(false, false, 100);
        var headers = new byte[(100 * (4 + 52)) - 1];
        Assert.False(GsoSegmenter.TryWriteSegmentHeaders(super, header, 0, headers, 4, partialChecksum: true, out _));
        Assert.All(headers, b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Gather_coalescing_equals_copying_coalescing_for_interleaved_flows_and_other_packets(bool ipv6, bool tap)
    {
        var mode = tap ? DeviceMode.Tap : DeviceMode.Tun;
        var payload = new byte[30_000];
        new Random(5).NextBytes(payload);
        var packets = new List<byte[]>();
        for (var i = 0; i < 20; i++)
        {
            packets.Add(TcpPackets.Build(ipv6, tap, payload.AsSpan(i * 1000, 1000), TcpFlags.Ack, sequence: (uint)(i * 1000)));
            if (i % 7 == 3)
            {
                // Another flow's segment (another ACK number, so a different flow header), a SYN, and a non-TCP packet in between.
                var other = TcpPackets.Build(ipv6, tap, payload.AsSpan(0, 500), TcpFlags.Ack, sequence: 5);
                other[TcpPackets.TcpOffset(ipv6, tap) + 11] ^= 1;
                packets.Add(other);
                packets.Add(TcpPackets.Build(ipv6, tap, [], TcpFlags.Syn));
                var udpLike = (byte[])other.Clone();
                udpLike[(tap ? 14 : 0) + (ipv6 ? 6 : 9)] = 17;
                packets.Add(udpLike);
            }
        }

        packets.Add(TcpPackets.Build(ipv6, tap, payload.AsSpan(20_000, 300), TcpFlags.Ack | TcpFlags.Psh, sequence: 20_000));

        var (consumed, gathered, _) = AssertGatherEqualsCopying(mode, packets);
        Assert.Equal(packets.Count, consumed);
        Assert.Contains(Enumerable.Range(0, gathered.Count), i => gathered.SegmentsOf(i) > 1);
    }

    [Fact]
    public void Gathered_packets_with_partial_checksums_merge_alike_and_alone_ask_the_kernel_for_the_checksum()
    {
        var payload = new byte[8000];
        new Random(6).NextBytes(payload);
        var super = TcpPackets.Build(false, false, payload, TcpFlags.Ack | TcpFlags.Psh);
        var header = TcpPackets.SuperHeader(false, false, 1000);
        var headers = new byte[4096];
        Assert.True(GsoSegmenter.TryWriteSegmentHeaders(super, header, 0, headers, 0, partialChecksum: true, out var layout));
        var partialSegments = Enumerable.Range(0, layout.Count)
            .Select(i => (byte[])[.. headers.AsSpan(layout.HeadersOffsetOf(i), layout.HeaderLength), .. super.AsSpan(layout.PayloadOf(i).Offset, layout.PayloadOf(i).Length)])
            .ToList();
        var fullSegments = new byte[GsoSegmenter.SegmentedLength(super, header, 0, 0)];
        Assert.True(GsoSegmenter.TrySegment(super, header, 0, fullSegments, 0, out var segments));

        var (fromPartial, partialSources) = Gather(DeviceMode.Tun, partialSegments, partial: true);
        var (fromFull, fullSources) = Gather(DeviceMode.Tun, Enumerable.Range(0, segments.Count).Select(i => fullSegments.AsSpan(segments.OffsetOf(i), segments.LengthOf(i)).ToArray()).ToList(), partial: false);
        Assert.Equal(1, fromPartial.Count);
        Assert.Equal(8, fromPartial.SegmentsOf(0));
        var a = new byte[20_000];
        var b = new byte[20_000];
        Assert.Equal(fromFull.CopyTo(0, fullSources, b), fromPartial.CopyTo(0, partialSources, a));
        Assert.Equal(b, a);

        // Alone: the header asks for the checksum, which then completes to the full one.
        var (single, singleSources) = Gather(DeviceMode.Tun, [partialSegments[0]], partial: true);
        var length = single.CopyTo(0, singleSources, a);
        Assert.True(VirtioNetHeader.TryCreate(a, out var written));
        Assert.Equal(new VirtioNetHeader(VirtioNetHeaderFlags.NeedsChecksum, VirtioGsoType.None, 0, 0, 20, 16), written);
        var body = a.AsSpan(VirtioNetHeader.Size, length - VirtioNetHeader.Size);
        Assert.True(GsoSegmenter.TryCompleteChecksum(body, written));
        Assert.True(TcpPackets.TcpChecksumValid(body, tap: false, ipv6: false));

        // A packet said to have a partial TCP checksum that is not TCP is refused.
        var notTcp = (byte[])partialSegments[0].Clone();
        notTcp[9] = 17;
        var coalescer = new TcpGatherCoalescer(DeviceMode.Tun, 4, 70_000);
        Assert.False(coalescer.Add(0, notTcp, 0, partialChecksum: true));
        Assert.Equal(0, coalescer.Count);
    }

    [Fact]
    public void Writing_segment_headers_and_gather_coalescing_allocate_nothing()
    {
        var super = TcpPackets.Build(false, false, new byte[30_000], TcpFlags.Ack);
        var header = TcpPackets.SuperHeader(false, false, 1400);
        var headers = new byte[64 * 1024];
        var sources = new[] { new byte[70_000] };
        var coalescer = new TcpGatherCoalescer(DeviceMode.Tun, 128, 70_000);
        Assert.True(GsoSegmenter.TryWriteSegmentHeaders(super, header, 0, headers, 4, partialChecksum: true, out var layout));
        var at = 0;
        for (var i = 0; i < layout.Count; i++)
        {
            headers.AsSpan(layout.HeadersOffsetOf(i), layout.HeaderLength).CopyTo(sources[0].AsSpan(at));
            var (offset, length) = layout.PayloadOf(i);
            super.AsSpan(offset, length).CopyTo(sources[0].AsSpan(at + layout.HeaderLength));
            at += layout.LengthOf(i) + 4;
        }

        var output = new byte[70_000];
        RunOnce();

        // Best of three blocks of 1000 rounds: a per-round allocation shows in every block, the
        // runtime's one-off work on this thread (tier-up, on-stack replacement of the loop: 1312
        // bytes once in a full-suite run) in one.
        var best = long.MaxValue;
        for (var block = 0; block < 3 && best > 0; block++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var round = 0; round < 1000; round++)
            {
                RunOnce();
            }

            best = Math.Min(best, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, best);
        Assert.Equal(1, coalescer.Count);
        Assert.Equal(layout.Count, coalescer.SegmentsOf(0));

        void RunOnce()
        {
            GsoSegmenter.TryWriteSegmentHeaders(super, header, 0, headers, 4, partialChecksum: true, out var written);
            GsoSegmenter.TryWriteSegmentHeaders(super, header, 0, headers, 4, partialChecksum: false, out _);
            coalescer.Clear();
            var position = 0;
            for (var i = 0; i < written.Count; i++)
            {
                coalescer.Add(0, sources[0].AsSpan(position, written.LengthOf(i)), position, partialChecksum: true);
                position += written.LengthOf(i) + 4;
            }

            coalescer.Finish();
            coalescer.CopyTo(0, sources, output);
        }
    }

    [Fact]
    public void Damaged_segments_from_a_peer_never_throw_and_gather_as_the_copying_coalescer_merges()
    {
        // Consecutive segments of one flow (what a peer sends), then bytes overwritten anywhere and
        // packets cut short: header fields that lie (lengths, offsets, versions, flags) must neither
        // throw nor make the two coalescers disagree; with a partial checksum claimed, nothing throws
        // and no output exceeds the device's packet size.
        var gen = Gen.Select(Gen.Bool, Gen.Bool, Gen.Int[2, 24], Gen.Select(Gen.Int[0, 23], Gen.Int[0, 120], Gen.Byte).Array[0, 12], Gen.Select(Gen.Int[0, 23], Gen.Int[0, 200]).Array[0, 3]);
        gen.Sample((ipv6, tap, count, damage, cuts) =>
        {
            var mode = tap ? DeviceMode.Tap : DeviceMode.Tun;
            var payload = new byte[1000];
            var packets = new List<byte[]>();
            for (var i = 0; i < count; i++)
            {
                packets.Add(TcpPackets.Build(ipv6, tap, payload, TcpFlags.Ack, sequence: (uint)(i * payload.Length)));
            }

            foreach (var (index, at, value) in damage)
            {
                var packet = packets[index % count];
                packet[at % packet.Length] = value;
            }

            foreach (var (index, keep) in cuts)
            {
                packets[index % count] = packets[index % count][..Math.Min(keep, packets[index % count].Length)];
            }

            var (_, _, sources) = AssertGatherEqualsCopying(mode, packets);
            var buffer = new byte[70_000];
            var partial = new TcpGatherCoalescer(mode, 128, 70_000);
            var position = 4;
            foreach (var packet in packets)
            {
                packet.CopyTo(sources[0], position);
                _ = partial.Add(0, sources[0].AsSpan(position, packet.Length), position, partialChecksum: true);
                position += packet.Length + 4;
            }

            partial.Finish();
            for (var i = 0; i < partial.Count; i++)
            {
                Assert.InRange(partial.CopyTo(i, sources, buffer), VirtioNetHeader.Size, 70_000);
            }
        });
    }

    /// <summary>
    /// Merges the packets both ways: copied into slots behind blank headers (<see cref="TcpCoalescer"/>)
    /// and where they lie (<see cref="Gather"/>); asserts equal outputs, byte for byte and segment
    /// counts. Returns how many packets the copying coalescer took, the gather coalescer and its sources.
    /// </summary>
    private static (int Consumed, TcpGatherCoalescer Gathered, byte[][] Sources) AssertGatherEqualsCopying(DeviceMode mode, List<byte[]> packets)
    {
        using var source = new PacketBatch(packets.Count, 2000);
        foreach (var packet in packets)
        {
            var slot = source.Count;
            TcpPackets.WithBlankHeader(packet).CopyTo(source.GetWritable(slot));
            source.SetLength(slot, packet.Length + VirtioNetHeader.Size);
            source.Count = slot + 1;
        }

        var copying = new TcpCoalescer(mode, 64);
        using var copied = new PacketBatch(64, 70_000);
        var consumed = copying.Coalesce(source, 0, copied);
        var (gathered, sources) = Gather(mode, packets, partial: false);
        Assert.Equal(copied.Count, gathered.Count);
        var buffer = new byte[70_000];
        for (var i = 0; i < gathered.Count; i++)
        {
            var length = gathered.CopyTo(i, sources, buffer);
            Assert.Equal(copied[i].ToArray(), buffer.AsSpan(0, length).ToArray());
            Assert.Equal(copying.SegmentsOf(i), gathered.SegmentsOf(i));
        }

        return (consumed, gathered, sources);
    }

    /// <summary>Puts the packets as 4-byte-gapped frames into two sources (half in each) and gathers them.</summary>
    private static (TcpGatherCoalescer Coalescer, byte[][] Sources) Gather(DeviceMode mode, List<byte[]> packets, bool partial)
    {
        var sources = new[] { new byte[200_000], new byte[200_000] };
        var coalescer = new TcpGatherCoalescer(mode, 128, 70_000);
        var at = new int[2];
        for (var i = 0; i < packets.Count; i++)
        {
            var source = i < packets.Count / 2 ? 0 : 1;
            var offset = at[source] + 4;
            packets[i].CopyTo(sources[source], offset);
            at[source] = offset + packets[i].Length;
            Assert.True(coalescer.Add(source, sources[source].AsSpan(offset, packets[i].Length), offset, partial));
        }

        coalescer.Finish();
        return (coalescer, sources);
    }
}
