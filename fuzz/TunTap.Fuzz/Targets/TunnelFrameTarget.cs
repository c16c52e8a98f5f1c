using TunTap.Tunnel;

namespace TunTap.Fuzz.Targets;

/// <summary>A byte stream from a tunnel peer, cut into frames; compressed payloads are decompressed.</summary>
internal sealed class TunnelFrameTarget : IFuzzTarget
{
    private static readonly byte[] Packet = new byte[65536];

    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        var reader = new TunnelFrameReader(maxPayload: 1600);
        var offset = 0;
        for (var rounds = 0; rounds < 10_000; rounds++)
        {
            var result = reader.TryRead(out var header, out var payload);
            if (result == TunnelFrameReadResult.Frame)
            {
                TunnelFrame.TryReadData(header.Flags, payload, Packet, out _, out _);
                TunnelHello.TryDecode(payload, out _);
                continue;
            }

            if (result != TunnelFrameReadResult.NeedMore || offset >= data.Length)
            {
                return;
            }

            var free = reader.GetFreeMemory().Span;
            var chunk = Math.Min(free.Length, data.Length - offset);
            data.Slice(offset, chunk).CopyTo(free);
            reader.Advance(chunk);
            offset += chunk;
        }
    }
}
