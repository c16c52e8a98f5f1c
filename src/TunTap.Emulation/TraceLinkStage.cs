namespace TunTap.Emulation;

/// <summary>
/// A trace-driven bottleneck with Mahimahi's <c>mm-link</c> semantics. Each trace line is a delivery
/// opportunity for <see cref="OpportunityBytes"/> bytes. At an opportunity the queue head is sent
/// byte by byte: several small packets can share one opportunity, a packet larger than what is left
/// continues at the next opportunity, and the packet leaves at the opportunity that carries its
/// last byte. Bytes an opportunity cannot use are lost (an idle link wastes its opportunities). An
/// opportunity at exactly a packet's arrival time is already gone, as in Mahimahi. The trace
/// repeats with its period unless <see cref="Loop"/> is false; after a non-looping trace ends,
/// nothing more is delivered.
/// </summary>
public sealed class TraceLinkStage : ILinkStage
{
    private readonly long[] _offsets;
    private readonly long _period;
    private readonly BottleneckQueue _queue;
    private long _cycleBase;
    private int _next;
    private bool _finished;
    private LinkPacket _sending;
    private bool _busy;
    private long _bytesLeft;

    /// <summary>Creates the stage; the trace starts at <paramref name="startTicks"/>.</summary>
    public TraceLinkStage(MahimahiTrace trace, long ticksPerSecond, long startTicks, QueueSettings queue, bool loop = true, int opportunityBytes = MahimahiTrace.DefaultOpportunityBytes)
    {
        ArgumentNullException.ThrowIfNull(trace);
        OptionValidation.AtLeast("--trace opportunity bytes", opportunityBytes, 1, " bytes");
        _offsets = new long[trace.Count];
        for (var i = 0; i < _offsets.Length; i++)
        {
            _offsets[i] = (long)((Int128)trace.Milliseconds[i] * ticksPerSecond / 1000);
        }

        _period = _offsets[^1];
        if (_period <= 0)
        {
            throw new TunTapException("trace: the trace period is shorter than one clock tick");
        }

        _queue = queue.CreateQueue();
        _cycleBase = startTicks;
        Loop = loop;
        OpportunityBytes = opportunityBytes;
    }

    /// <summary>Whether the trace repeats.</summary>
    public bool Loop { get; }

    /// <summary>Bytes per delivery opportunity.</summary>
    public int OpportunityBytes { get; }

    /// <summary>Whether a non-looping trace has run out.</summary>
    public bool Finished => _finished;

    /// <summary>Packets waiting (not counting one partly sent).</summary>
    public int QueuedPackets => _queue.Count;

    /// <inheritdoc />
    public long NextEventTicks => (_busy || _queue.Count > 0) && !_finished ? _cycleBase + _offsets[_next] : long.MaxValue;

    /// <inheritdoc />
    public void Offer(LinkPacket packet, long nowTicks, ILinkStageOutput output)
    {
        if (!_busy && _queue.Count == 0)
        {
            SkipOpportunitiesUpTo(nowTicks);
        }

        _queue.Enqueue(packet, nowTicks, output);
    }

    /// <inheritdoc />
    public void Advance(long nowTicks, ILinkStageOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        while (NextEventTicks <= nowTicks)
        {
            var budget = (long)OpportunityBytes;
            UseOpportunity();
            while (budget > 0)
            {
                if (!_busy)
                {
                    if (!_queue.TryDequeue(nowTicks, output, out _sending))
                    {
                        break;
                    }

                    _busy = true;
                    _bytesLeft = _sending.Length;
                }

                var sent = Math.Min(budget, _bytesLeft);
                budget -= sent;
                _bytesLeft -= sent;
                if (_bytesLeft == 0)
                {
                    var packet = _sending;
                    _sending = default;
                    _busy = false;
                    output.Forward(packet, nowTicks);
                    if (budget == 0)
                    {
                        break;
                    }
                }
            }
        }
    }

    private void UseOpportunity()
    {
        _next++;
        if (_next == _offsets.Length)
        {
            _next = 0;
            if (Loop)
            {
                _cycleBase += _period;
            }
            else
            {
                _finished = true;
            }
        }
    }

    private void SkipOpportunitiesUpTo(long nowTicks)
    {
        if (_finished || _cycleBase + _offsets[_next] > nowTicks)
        {
            return;
        }

        // Whole periods that ended by now are gone.
        var lastOfCycle = _cycleBase + _offsets[^1];
        if (lastOfCycle <= nowTicks)
        {
            if (!Loop)
            {
                _finished = true;
                return;
            }

            var cycles = ((nowTicks - lastOfCycle) / _period) + 1;
            _cycleBase += cycles * _period;
            _next = 0;
        }

        // Then the opportunities of the current period at or before now (binary search).
        var lo = _next;
        var hi = _offsets.Length - 1;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (_cycleBase + _offsets[mid] <= nowTicks)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        _next = lo;
    }
}
