namespace TunTap.Emulation.Logging;

/// <summary>One line of a link event log, as <see cref="LinkEventLogReader"/> reads it.</summary>
/// <param name="TimeMicroseconds">When it happened, in µs from the log's start.</param>
/// <param name="Direction">The link direction, e.g. <c>a-&gt;b</c>.</param>
/// <param name="Kind">What happened.</param>
/// <param name="PacketId">The packet id within its direction (an arrival and its departure or drop share it).</param>
/// <param name="Size">Packet size in bytes.</param>
/// <param name="QueuePackets">Packets in the bottleneck queue after the event.</param>
/// <param name="QueueBytes">Bytes in the bottleneck queue after the event.</param>
/// <param name="HeldPackets">Packets the direction held after the event.</param>
/// <param name="Cause">Why the packet was dropped (drops only).</param>
public readonly record struct LinkLogEntry(long TimeMicroseconds, string Direction, LinkEventKind Kind, long PacketId, int Size,
    long QueuePackets, long QueueBytes, long HeldPackets, DropReason? Cause);
