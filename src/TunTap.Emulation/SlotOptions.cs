namespace TunTap.Emulation;

/// <summary>netem <c>slot MIN [MAX] [packets N] [bytes N]</c>; 0 packets or bytes means no limit.</summary>
public sealed record SlotOptions(TimeSpan MinDelay, TimeSpan MaxDelay, int MaxPackets = 0, long MaxBytes = 0);
