namespace TunTap.Emulation;

/// <summary>
/// One per-packet event of a <see cref="LinkModel"/>, as handed to its <see cref="ILinkEventSink"/>.
/// The depths are the link's state just after the event.
/// </summary>
/// <param name="Ticks">When it happened, on the link's clock.</param>
/// <param name="Kind">What happened.</param>
/// <param name="PacketId">The packet's <see cref="LinkPacket.Sequence"/>: an arrival and its departure or drop share it.</param>
/// <param name="Size">The packet's length in bytes.</param>
/// <param name="QueuePackets">Packets waiting in the bottleneck queue (<see cref="LinkCounters.QueuePackets"/>).</param>
/// <param name="QueueBytes">Bytes waiting in the bottleneck queue.</param>
/// <param name="HeldPackets">Every packet the link holds: in its stages and waiting at its output.</param>
/// <param name="Reason">Why the packet was dropped (only meaningful for <see cref="LinkEventKind.Drop"/>).</param>
public readonly record struct LinkEvent(long Ticks, LinkEventKind Kind, long PacketId, int Size, long QueuePackets, long QueueBytes, long HeldPackets, DropReason Reason);
