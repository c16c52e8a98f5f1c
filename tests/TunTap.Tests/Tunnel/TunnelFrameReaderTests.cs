using CsCheck;
using TunTap.Tunnel;

namespace TunTap.Tests.Tunnel;

public sealed class TunnelFrameReaderTests
{
    private const int MaxPayload = 1500;

    [Fact]
    public void Frames_split_at_any_boundary_come_out_whole_and_in_order()
    {
        Gen.Select(Gen.Byte.Array[0, MaxPayload].List[1, 30], Gen.Int[1, 3000]).Sample((packets, chunk) =>
        {
            using var stream = new MemoryStream();
            var frame = new byte[TunnelFrame.HeaderSize + MaxPayload];
            foreach (var packet in packets)
            {
                stream.Write(frame, 0, TunnelFrame.WriteData(packet, frame, compress: false));
            }

            var bytes = stream.ToArray();
            var reader = new TunnelFrameReader(MaxPayload, capacity: 4 * 1024);
            var received = new List<byte[]>();
            var offset = 0;
            while (offset < bytes.Length || reader.Buffered > 0)
            {
                var take = Math.Min(chunk, bytes.Length - offset);
                offset += reader.Write(bytes.AsSpan(offset, take));
                TunnelFrameReadResult result;
                while ((result = reader.TryRead(out var header, out var payload)) == TunnelFrameReadResult.Frame)
                {
                    Assert.Equal(TunnelFrameType.Data, header.Type);
                    received.Add(payload.ToArray());
                }

                Assert.Equal(TunnelFrameReadResult.NeedMore, result);
                if (offset == bytes.Length && reader.Buffered > 0)
                {
                    Assert.Fail($"{reader.Buffered} bytes left over");
                }
            }

            Assert.Equal(packets.Count, received.Count);
            for (var i = 0; i < packets.Count; i++)
            {
                Assert.Equal(packets[i], received[i]);
            }
        }, iter: 200);
    }

    [Fact]
    public void Length_prefix_above_the_maximum_is_oversize_and_sticks()
    {
        var reader = new TunnelFrameReader(MaxPayload);
        var header = new byte[4];
        TunnelFrame.WriteHeader(header, TunnelFrameType.Data, TunnelFrameFlags.None, MaxPayload + 1);
        reader.Write(header);
        Assert.Equal(TunnelFrameReadResult.Oversize, reader.TryRead(out var parsed, out _));
        Assert.Equal(MaxPayload + 1, parsed.Length);
        reader.Write(new byte[] { 3, 0, 0, 0 });
        Assert.Equal(TunnelFrameReadResult.Oversize, reader.TryRead(out _, out _));
    }

    [Fact]
    public void Unknown_frame_type_is_malformed()
    {
        var reader = new TunnelFrameReader(MaxPayload);
        reader.Write(new byte[] { 9, 0, 0, 1, 0 });
        Assert.Equal(TunnelFrameReadResult.Malformed, reader.TryRead(out _, out _));
    }

    [Fact]
    public void Random_bytes_never_throw_and_never_grow_the_buffer()
    {
        Gen.Byte.Array[0, 20_000].Sample(garbage =>
        {
            var reader = new TunnelFrameReader(MaxPayload, capacity: 4 * 1024);
            var offset = 0;
            for (var rounds = 0; rounds < 100 && offset < garbage.Length; rounds++)
            {
                offset += reader.Write(garbage.AsSpan(offset));
                Assert.InRange(reader.Buffered, 0, 4 * 1024);
                var result = reader.TryRead(out var header, out var payload);
                while (result == TunnelFrameReadResult.Frame)
                {
                    Assert.True(header.IsKnown);
                    Assert.InRange(payload.Length, 0, MaxPayload);
                    result = reader.TryRead(out header, out payload);
                }

                if (result != TunnelFrameReadResult.NeedMore)
                {
                    return;
                }
            }
        }, iter: 500);
    }

    [Fact]
    public void Receiving_through_free_memory_in_small_chunks_yields_every_frame()
    {
        var stream = new MemoryStream();
        var frame = new byte[TunnelFrame.HeaderSize + 100];
        for (var i = 0; i < 200; i++)
        {
            TunnelFrame.WriteData(Enumerable.Repeat((byte)i, 100).ToArray(), frame, compress: false);
            stream.Write(frame);
        }

        var bytes = stream.ToArray();
        var reader = new TunnelFrameReader(MaxPayload);
        var frames = 0;
        for (var offset = 0; offset < bytes.Length;)
        {
            var free = reader.GetFreeMemory();
            Assert.True(free.Length >= TunnelFrame.HeaderSize + MaxPayload);
            var count = Math.Min(57, bytes.Length - offset);
            bytes.AsSpan(offset, count).CopyTo(free.Span);
            reader.Advance(count);
            offset += count;
            while (reader.TryRead(out _, out var payload) == TunnelFrameReadResult.Frame)
            {
                Assert.Equal((byte)frames, payload[0]);
                frames++;
            }
        }

        Assert.Equal(200, frames);
        Assert.Equal(0, reader.Buffered);
    }
}
