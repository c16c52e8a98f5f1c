using CsCheck;
using TunTap.Tunnel;

namespace TunTap.Tests.Tunnel;

public sealed class TunnelFrameTests
{
    [Fact]
    public void Header_is_type_flags_and_big_endian_length()
    {
        var bytes = new byte[4];
        TunnelFrame.WriteHeader(bytes, TunnelFrameType.Data, TunnelFrameFlags.Compressed, 0x0102);
        Assert.Equal(new byte[] { 3, 1, 1, 2 }, bytes);
        Assert.True(TunnelFrame.TryReadHeader(bytes, out var header));
        Assert.Equal(new TunnelFrameHeader(TunnelFrameType.Data, TunnelFrameFlags.Compressed, 0x0102), header);
        Assert.False(TunnelFrame.TryReadHeader(bytes.AsSpan(0, 3), out _));
    }

    [Fact]
    public void Data_frames_round_trip_with_and_without_compression()
    {
        Gen.Select(Gen.Byte.Array[0, 1500], Gen.Bool, Gen.Bool).Sample((packet, repetitive, compress) =>
        {
            if (repetitive)
            {
                for (var i = 0; i < packet.Length; i++)
                {
                    packet[i] = (byte)(i % 7);
                }
            }

            var frame = new byte[TunnelFrame.HeaderSize + packet.Length];
            var length = TunnelFrame.WriteData(packet, frame, compress);
            Assert.True(TunnelFrame.TryReadHeader(frame, out var header));
            Assert.Equal(TunnelFrameType.Data, header.Type);
            Assert.Equal(length - TunnelFrame.HeaderSize, header.Length);
            Assert.True(length <= TunnelFrame.HeaderSize + packet.Length);
            if (!compress)
            {
                Assert.Equal(TunnelFrameFlags.None, header.Flags);
            }

            var output = new byte[1500];
            Assert.True(TunnelFrame.TryReadData(header.Flags, frame.AsSpan(TunnelFrame.HeaderSize, header.Length), output, out var decoded, out _));
            Assert.Equal(packet, output.AsSpan(0, decoded).ToArray());
        }, iter: 300);
    }

    [Fact]
    public void Compressible_packets_are_flagged_and_smaller_incompressible_ones_go_as_they_are()
    {
        var zeros = new byte[1400];
        var frame = new byte[TunnelFrame.HeaderSize + zeros.Length];
        var length = TunnelFrame.WriteData(zeros, frame, compress: true);
        Assert.True(TunnelFrame.TryReadHeader(frame, out var header));
        Assert.Equal(TunnelFrameFlags.Compressed, header.Flags);
        Assert.True(length < 100, $"1400 zero bytes compressed to {length}");

        var random = new byte[1400];
        new Random(7).NextBytes(random);
        length = TunnelFrame.WriteData(random, frame, compress: true);
        Assert.True(TunnelFrame.TryReadHeader(frame, out header));
        Assert.Equal(TunnelFrameFlags.None, header.Flags);
        Assert.Equal(TunnelFrame.HeaderSize + random.Length, length);
        Assert.Equal(random, frame.AsSpan(TunnelFrame.HeaderSize).ToArray());
    }

    [Fact]
    public void Reading_data_rejects_oversize_and_undecodable_payloads()
    {
        Assert.False(TunnelFrame.TryReadData(TunnelFrameFlags.None, new byte[101], new byte[100], out _, out var reason));
        Assert.Equal(TunnelDropReason.Oversize, reason);

        Assert.False(TunnelFrame.TryReadData(TunnelFrameFlags.Compressed, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x13 }, new byte[100], out _, out reason));
        Assert.Equal(TunnelDropReason.Decompress, reason);

        // A small compressed payload that expands beyond the allowed packet size.
        var big = new byte[5000];
        var compressed = new byte[5000];
        Assert.True(PacketCompressor.TryCompress(big, compressed, out var written));
        Assert.False(TunnelFrame.TryReadData(TunnelFrameFlags.Compressed, compressed.AsSpan(0, written), new byte[1500], out _, out reason));
        Assert.Equal(TunnelDropReason.Decompress, reason);
    }

    [Fact]
    public void Decoding_random_compressed_payloads_never_throws()
    {
        var output = new byte[1518];
        Gen.Byte.Array[0, 2000].Sample(payload =>
        {
            if (TunnelFrame.TryReadData(TunnelFrameFlags.Compressed, payload, output, out var length, out _))
            {
                Assert.InRange(length, 0, output.Length);
            }
        }, iter: 1000);
    }

    [Fact]
    public void Header_knows_only_defined_types_and_flags()
    {
        Assert.True(new TunnelFrameHeader(TunnelFrameType.Data, TunnelFrameFlags.Compressed, 1).IsKnown);
        Assert.True(new TunnelFrameHeader(TunnelFrameType.Hello, TunnelFrameFlags.None, 10).IsKnown);
        Assert.False(new TunnelFrameHeader(TunnelFrameType.Hello, TunnelFrameFlags.Compressed, 10).IsKnown);
        Assert.False(new TunnelFrameHeader((TunnelFrameType)0, TunnelFrameFlags.None, 1).IsKnown);
        Assert.False(new TunnelFrameHeader((TunnelFrameType)4, TunnelFrameFlags.None, 1).IsKnown);
        Assert.True(new TunnelFrameHeader(TunnelFrameType.Data, TunnelFrameFlags.LongLength | TunnelFrameFlags.VnetHeader, 1).IsKnown);
        Assert.False(new TunnelFrameHeader(TunnelFrameType.Data, (TunnelFrameFlags)16, 1).IsKnown);
        Assert.False(new TunnelFrameHeader(TunnelFrameType.Hello, TunnelFrameFlags.LongLength, 10).IsKnown);
    }

    [Fact]
    public void Long_header_carries_lengths_above_16_bits()
    {
        var frame = new byte[TunnelFrame.LongHeaderSize];
        Assert.Equal(TunnelFrame.LongHeaderSize, TunnelFrame.WriteHeader(frame, TunnelFrameType.Data, TunnelFrameFlags.VnetHeader, 70_000));
        Assert.Equal(new byte[] { 3, 6, 0, 0, 0, 0x01, 0x11, 0x70 }, frame);
        Assert.True(TunnelFrame.TryReadHeader(frame, out var header));
        Assert.Equal(new TunnelFrameHeader(TunnelFrameType.Data, TunnelFrameFlags.VnetHeader | TunnelFrameFlags.LongLength, 70_000), header);
        Assert.Equal(TunnelFrame.LongHeaderSize, header.Size);
        Assert.Equal(70_008, header.FrameLength);
        Assert.False(TunnelFrame.TryReadHeader(frame.AsSpan(0, 7), out _));

        // Short lengths keep the 4-byte header unless asked.
        Assert.Equal(TunnelFrame.HeaderSize, TunnelFrame.WriteHeader(frame, TunnelFrameType.Data, TunnelFrameFlags.None, 65_535));
        Assert.Equal(TunnelFrame.LongHeaderSize, TunnelFrame.WriteHeader(frame, TunnelFrameType.Data, TunnelFrameFlags.LongLength, 5));
        Assert.True(TunnelFrame.TryReadHeader(frame, out header));
        Assert.Equal(5, header.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => TunnelFrame.WriteHeader(new byte[8], TunnelFrameType.Data, TunnelFrameFlags.None, TunnelFrame.MaxLongPayloadLimit + 1));
    }

    [Fact]
    public void Long_header_with_a_nonzero_short_field_is_malformed()
    {
        byte[] frame = [3, 2, 0, 1, 0, 0, 0, 5];
        Assert.True(TunnelFrame.TryReadHeader(frame, out var header));
        Assert.False(header.IsKnown);
    }

    [Fact]
    public void Reader_splits_long_frames_and_bounds_them_by_its_maximum()
    {
        var packet = new byte[100_000];
        new Random(5).NextBytes(packet);
        var stream = new byte[2 * (TunnelFrame.LongHeaderSize + packet.Length)];
        var first = TunnelFrame.WriteData(packet, stream, compress: false, TunnelFrameFlags.VnetHeader);
        Assert.Equal(TunnelFrame.LongHeaderSize + packet.Length, first);
        var second = TunnelFrame.WriteData(packet.AsSpan(0, 300), stream.AsSpan(first), compress: false);
        var reader = new TunnelFrameReader(1500, 512 * 1024);
        Assert.Equal(first + second, reader.Write(stream.AsSpan(0, first + second)));
        Assert.Equal(TunnelFrameReadResult.Oversize, reader.TryRead(out _, out _));

        reader = new TunnelFrameReader(1500, 512 * 1024) { MaxPayload = 100_000 };
        reader.Write(stream.AsSpan(0, first + second));
        Assert.Equal(TunnelFrameReadResult.Frame, reader.TryRead(out var header, out var payload));
        Assert.Equal(TunnelFrameFlags.VnetHeader | TunnelFrameFlags.LongLength, header.Flags);
        Assert.Equal(packet, payload.ToArray());
        Assert.Equal(TunnelFrameReadResult.Frame, reader.TryRead(out header, out payload));
        Assert.Equal(TunnelFrameFlags.None, header.Flags);
        Assert.Equal(packet.AsSpan(0, 300).ToArray(), payload.ToArray());
        Assert.Equal(TunnelFrameReadResult.NeedMore, reader.TryRead(out _, out _));
    }

    [Fact]
    public void Writing_a_data_frame_allocates_nothing()
    {
        var packet = new byte[1400];
        for (var i = 0; i < packet.Length; i++)
        {
            packet[i] = (byte)(i % 13);
        }

        var frame = new byte[TunnelFrame.HeaderSize + packet.Length];
        var output = new byte[1500];
        void RoundTrip()
        {
            var length = TunnelFrame.WriteData(packet, frame, compress: true);
            TunnelFrame.TryReadHeader(frame, out var header);
            TunnelFrame.TryReadData(header.Flags, frame.AsSpan(TunnelFrame.HeaderSize, length - TunnelFrame.HeaderSize), output, out _, out _);
        }

        // Warm up past tiered compilation, whose re-JIT can allocate on this thread once.
        for (var i = 0; i < 200; i++)
        {
            RoundTrip();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            RoundTrip();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
