namespace TunTap.Emulation;

/// <summary>
/// Delays each packet by the <see cref="DelayTrace"/> value of the time step it arrives in (the
/// trace repeats, or holds its last value when not looping). Packets keep their order: when the
/// delay drops, a packet waits for the one before it, as on a real path whose latency changes.
/// </summary>
public sealed class DelayTraceStage : ILinkStage
{
    private readonly long[] _delays;
    private readonly long _step;
    private readonly long _start;
    private readonly bool _loop;
    private readonly PacketRing _ring = new();
    private long _lastDue = long.MinValue;

    /// <summary>Creates the stage; the trace starts at <paramref name="startTicks"/>.</summary>
    public DelayTraceStage(DelayTrace trace, long ticksPerSecond, long startTicks, bool loop = true)
    {
        ArgumentNullException.ThrowIfNull(trace);
        _delays = new long[trace.Milliseconds.Length];
        for (var i = 0; i < _delays.Length; i++)
        {
            _delays[i] = (long)Math.Round(trace.Milliseconds[i] * ticksPerSecond / 1000);
        }

        _step = Math.Max(1, (long)((Int128)trace.Step.Ticks * ticksPerSecond / TimeSpan.TicksPerSecond));
        _start = startTicks;
        _loop = loop;
    }

    /// <inheritdoc />
    public long NextEventTicks => _ring.Count == 0 ? long.MaxValue : _ring.Peek().Ticks;

    /// <summary>The delay a packet arriving at <paramref name="nowTicks"/> gets (before keeping order).</summary>
    public long DelayAt(long nowTicks)
    {
        var index = Math.Max(0, (nowTicks - _start) / _step);
        index = _loop ? index % _delays.Length : Math.Min(index, _delays.Length - 1);
        return _delays[index];
    }

    /// <inheritdoc />
    public void Offer(LinkPacket packet, long nowTicks, ILinkStageOutput output)
    {
        var due = Math.Max(nowTicks + DelayAt(nowTicks), _lastDue);
        _lastDue = due;
        _ring.Enqueue(packet, due);
    }

    /// <inheritdoc />
    public void Advance(long nowTicks, ILinkStageOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        while (_ring.Count > 0 && _ring.Peek().Ticks <= nowTicks)
        {
            output.Forward(_ring.Dequeue().Packet, nowTicks);
        }
    }
}
