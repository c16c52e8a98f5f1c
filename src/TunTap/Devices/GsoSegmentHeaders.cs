namespace TunTap.Devices;

/// <summary>
/// Where <see cref="GsoSegmenter.TryWriteSegmentHeaders"/> put the headers of a super packet's
/// segments, and where each segment's payload is in the super packet. Headers i start at
/// <see cref="HeadersOffsetOf"/>(i) after <see cref="Gap"/> free bytes, <see cref="Stride"/> apart.
/// Segment i on the wire is its headers followed by <see cref="PayloadOf"/>(i) of the super packet;
/// all segments but the last carry <see cref="Mss"/> payload bytes, so with each gap filled
/// (a frame header) the whole is the uniform datagram stream UDP segmentation offload cuts by
/// <see cref="WireSegmentLength"/>.
/// </summary>
/// <param name="Count">Number of segments (at least 1).</param>
/// <param name="Gap">Free bytes in front of every segment's headers.</param>
/// <param name="HeaderLength">Bytes of headers per segment (link, IP, TCP).</param>
/// <param name="Mss">Payload bytes of each segment but the last.</param>
/// <param name="PayloadLength">Payload bytes of the super packet (all segments together).</param>
public readonly record struct GsoSegmentHeaders(int Count, int Gap, int HeaderLength, int Mss, int PayloadLength)
{
    /// <summary>Distance from one segment's gap to the next one's in the headers buffer.</summary>
    public int Stride => Gap + HeaderLength;

    /// <summary>Gap, headers and payload of every segment but the last: one datagram of a UDP GSO send.</summary>
    public int WireSegmentLength => Gap + HeaderLength + Mss;

    /// <summary>Where segment <paramref name="index"/>'s headers start (after its gap) in the headers buffer.</summary>
    public int HeadersOffsetOf(int index) => (index * Stride) + Gap;

    /// <summary>Segment <paramref name="index"/>'s payload: its offset in the super packet and its length.</summary>
    public (int Offset, int Length) PayloadOf(int index)
    {
        var start = index * Mss;
        return (HeaderLength + start, Math.Min(Mss, PayloadLength - start));
    }

    /// <summary>The length of segment <paramref name="index"/> (headers and payload, no gap).</summary>
    public int LengthOf(int index) => HeaderLength + PayloadOf(index).Length;
}
