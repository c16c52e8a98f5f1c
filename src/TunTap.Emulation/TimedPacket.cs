namespace TunTap.Emulation;

/// <summary>A packet held by a stage with the time that matters to it (queued at, or due at).</summary>
internal readonly record struct TimedPacket(LinkPacket Packet, long Ticks);
