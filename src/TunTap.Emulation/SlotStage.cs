namespace TunTap.Emulation;

/// <summary>
/// netem's <c>slot</c>: packets leave only in bursts at slot boundaries, as on Wi-Fi or cellular
/// links with scheduled transmission opportunities. A slot opens a random time (uniform between
/// <c>min</c> and <c>max</c>) after it is scheduled; while open it passes packets that were ready
/// when it opened, until <c>packets</c> or <c>bytes</c> run out, and then the next slot is drawn
/// from that moment. A packet that becomes ready after a slot opened waits for a new slot drawn
/// from the moment it is looked at (as netem does when its dequeue runs).
/// </summary>
public sealed class SlotStage : ILinkStage
{
    private readonly long _minDelay;
    private readonly long _maxDelay;
    private readonly int _maxPackets;
    private readonly long _maxBytes;
    private readonly LinkRandom _random;
    private readonly PacketRing _ring = new();
    private long _slotOpens;
    private int _packetsLeft;
    private long _bytesLeft;
    private long _next = long.MaxValue;

    /// <summary>Creates the stage; times in ticks; 0 packets or bytes means no limit.</summary>
    public SlotStage(long minDelayTicks, long maxDelayTicks, int maxPackets, long maxBytes, LinkRandom random, long startTicks)
    {
        OptionValidation.AtLeast("--slot min", minDelayTicks, 0);
        OptionValidation.AtLeast("--slot max", maxDelayTicks, minDelayTicks);
        OptionValidation.AtLeast("--slot packets", maxPackets, 0);
        OptionValidation.AtLeast("--slot bytes", maxBytes, 0);
        ArgumentNullException.ThrowIfNull(random);
        _minDelay = minDelayTicks;
        _maxDelay = maxDelayTicks;
        _maxPackets = maxPackets == 0 ? int.MaxValue : maxPackets;
        _maxBytes = maxBytes == 0 ? long.MaxValue : maxBytes;
        _random = random;
        _slotOpens = startTicks;
        _packetsLeft = _maxPackets;
        _bytesLeft = _maxBytes;
    }

    /// <summary>When the current (or next) slot opens.</summary>
    public long SlotOpensTicks => _slotOpens;

    /// <inheritdoc />
    public long NextEventTicks => _next;

    /// <inheritdoc />
    public void Offer(LinkPacket packet, long nowTicks, ILinkStageOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _ring.Enqueue(packet, nowTicks);
        if (_ring.Count == 1)
        {
            Schedule(nowTicks);
        }
    }

    /// <inheritdoc />
    public void Advance(long nowTicks, ILinkStageOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        while (_next <= nowTicks)
        {
            var packet = _ring.Dequeue().Packet;
            output.Forward(packet, nowTicks);
            _packetsLeft--;
            _bytesLeft -= packet.Length;
            if (_packetsLeft <= 0 || _bytesLeft <= 0)
            {
                DrawNextSlot(nowTicks);
            }

            _next = long.MaxValue;
            if (_ring.Count > 0)
            {
                Schedule(nowTicks);
            }
        }
    }

    private void Schedule(long nowTicks)
    {
        var ready = _ring.Peek().Ticks;
        if (_slotOpens < ready)
        {
            DrawNextSlot(nowTicks);
        }

        _next = Math.Max(ready, _slotOpens);
    }

    private void DrawNextSlot(long nowTicks)
    {
        _slotOpens = nowTicks + _minDelay + (_maxDelay > _minDelay ? _random.NextLong(_maxDelay - _minDelay) : 0);
        _packetsLeft = _maxPackets;
        _bytesLeft = _maxBytes;
    }
}
