namespace TunTap.WireGuard;

/// <summary>
/// Which datagrams of a <see cref="UdpSendBatch"/> one UDP segmentation-offload send
/// (<c>UDP_SEGMENT</c>) can carry: consecutive datagrams to the same destination, all as long as
/// the first except possibly a shorter last one, at most <see cref="MaxSegments"/> of them and
/// <see cref="MaxBytes"/> bytes in all (the kernel cuts the send at the first one's length).
/// </summary>
public static class UdpGsoRun
{
    /// <summary>Segments per send the kernel accepts on every version with UDP GSO (UDP_MAX_SEGMENTS was 64 before 6.x).</summary>
    public const int MaxSegments = 64;

    /// <summary>Payload bytes per send: one UDP datagram's length field, IP and UDP headers left out with room to spare.</summary>
    public const int MaxBytes = 65_000;

    /// <summary>How many datagrams from <paramref name="start"/> on one send can carry (at least 1).</summary>
    public static int Length(UdpSendBatch batch, int start)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(start, batch.Count);
        var size = batch.GetLength(start);
        var remote = batch.GetRemote(start);
        var total = size;
        var count = 1;
        if (size == 0)
        {
            return 1;
        }

        for (var i = start + 1; i < batch.Count && count < MaxSegments; i++)
        {
            var length = batch.GetLength(i);
            var other = batch.GetRemote(i);
            if (length > size || length == 0 || total + length > MaxBytes || !(ReferenceEquals(other, remote) || other.Equals(remote)))
            {
                break;
            }

            total += length;
            count++;
            if (length < size)
            {
                break;
            }
        }

        return count;
    }
}
