namespace TunTap.Devices;

/// <summary>
/// Where <see cref="GsoSegmenter.TrySegment"/> put the segments of a super packet: one after
/// another, each preceded by <see cref="Gap"/> free bytes (room for a caller's header), every
/// segment <see cref="SegmentLength"/> bytes long except the last, which is
/// <see cref="LastLength"/>. So all but the last occupy exactly <see cref="Stride"/> bytes, the
/// shape UDP segmentation offload (<c>UDP_SEGMENT</c>) sends in one call.
/// </summary>
/// <param name="Count">Number of segments (at least 1).</param>
/// <param name="Gap">Free bytes in front of every segment.</param>
/// <param name="SegmentLength">Bytes of each segment but the last (headers included).</param>
/// <param name="LastLength">Bytes of the last segment.</param>
public readonly record struct GsoSegments(int Count, int Gap, int SegmentLength, int LastLength)
{
    /// <summary>Distance from one segment's gap to the next one's.</summary>
    public int Stride => Gap + SegmentLength;

    /// <summary>Bytes used from the start of the destination, gaps included.</summary>
    public int TotalLength => ((Count - 1) * Stride) + Gap + LastLength;

    /// <summary>Where segment <paramref name="index"/> starts (after its gap).</summary>
    public int OffsetOf(int index) => (index * Stride) + Gap;

    /// <summary>The length of segment <paramref name="index"/>.</summary>
    public int LengthOf(int index) => index == Count - 1 ? LastLength : SegmentLength;
}
