namespace TunTap.Capture;

/// <summary>One packet read from a pcap file. <see cref="Data"/> is valid until the next read.</summary>
/// <param name="Timestamp">When the packet was captured.</param>
/// <param name="OriginalLength">The packet's length on the wire; more than <c>Data.Length</c> when truncated.</param>
/// <param name="Data">The stored bytes.</param>
public readonly record struct PcapRecord(DateTimeOffset Timestamp, int OriginalLength, ReadOnlyMemory<byte> Data);
