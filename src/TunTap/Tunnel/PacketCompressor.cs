using System.IO.Compression;

namespace TunTap.Tunnel;

/// <summary>
/// Per-packet compression for tunnel frames: Brotli at quality 1 with a small window, one-shot
/// into caller spans (no managed allocation, no state shared between packets, so UDP loss does
/// not break decoding). A packet is only sent compressed when that makes it strictly smaller.
/// </summary>
public static class PacketCompressor
{
    /// <summary>Brotli quality: 1 is the fastest setting that still finds repeats across a packet.</summary>
    public const int Quality = 1;

    /// <summary>Brotli window bits: 2^16 covers any packet, and keeps the encoder state small.</summary>
    public const int WindowBits = 16;

    /// <summary>
    /// Compresses <paramref name="packet"/> into <paramref name="destination"/>. Returns false (and
    /// the caller sends the packet as it is) when the result would not be smaller than the packet.
    /// </summary>
    public static bool TryCompress(ReadOnlySpan<byte> packet, Span<byte> destination, out int written)
    {
        var limit = Math.Min(destination.Length, packet.Length - 1);
        if (limit <= 0)
        {
            written = 0;
            return false;
        }

        if (BrotliEncoder.TryCompress(packet, destination[..limit], out written, Quality, WindowBits) && written < packet.Length)
        {
            return true;
        }

        written = 0;
        return false;
    }

    /// <summary>
    /// Decompresses one frame payload into <paramref name="destination"/>. Returns false when the
    /// payload is not valid Brotli or the packet would not fit (so memory stays bounded).
    /// </summary>
    public static bool TryDecompress(ReadOnlySpan<byte> payload, Span<byte> destination, out int written)
    {
        if (payload.IsEmpty)
        {
            written = 0;
            return false;
        }

        return BrotliDecoder.TryDecompress(payload, destination, out written);
    }
}
