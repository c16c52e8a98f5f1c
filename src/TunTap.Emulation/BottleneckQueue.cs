namespace TunTap.Emulation;

/// <summary>
/// The queue in front of a bottleneck (<see cref="RateLimitStage"/>, <see cref="TraceLinkStage"/>):
/// a FIFO capped in packets and/or bytes (drop-tail at arrival), optionally managed by CoDel at
/// dequeue as RFC 8289 section 5 describes.
/// </summary>
internal sealed class BottleneckQueue
{
    private readonly PacketRing _ring = new();
    private readonly int _limitPackets;
    private readonly long _limitBytes;
    private readonly bool _codel;
    private readonly long _target;
    private readonly long _interval;
    private readonly int _maxPacket;

    // CoDel state (RFC 8289 names).
    private bool _firstAboveSet;
    private long _firstAboveTime;
    private long _dropNext;
    private int _count;
    private int _lastCount;
    private bool _dropping;

    public BottleneckQueue(int limitPackets, long limitBytes, QueueDiscipline discipline, long targetTicks, long intervalTicks, int maxPacket)
    {
        _limitPackets = limitPackets;
        _limitBytes = limitBytes;
        _codel = discipline == QueueDiscipline.CoDel;
        _target = targetTicks;
        _interval = intervalTicks;
        _maxPacket = maxPacket;
    }

    public int Count => _ring.Count;

    public long Bytes => _ring.Bytes;

    public void Enqueue(LinkPacket packet, long nowTicks, ILinkStageOutput output)
    {
        if ((_limitPackets > 0 && _ring.Count >= _limitPackets) || (_limitBytes > 0 && _ring.Bytes + packet.Length > _limitBytes))
        {
            output.Drop(packet, DropReason.QueueFull);
            return;
        }

        _ring.Enqueue(packet, nowTicks);
        output.Counters.QueuePackets++;
        output.Counters.QueueBytes += packet.Length;
    }

    public bool TryDequeue(long nowTicks, ILinkStageOutput output, out LinkPacket packet)
    {
        if (!_codel)
        {
            return TakeHead(output, out packet);
        }

        var has = CoDelDequeue(nowTicks, output, out packet, out var okToDrop);
        if (_dropping)
        {
            if (!okToDrop)
            {
                _dropping = false;
            }

            while (_dropping && nowTicks >= _dropNext)
            {
                output.Drop(packet, DropReason.CoDel);
                _count++;
                has = CoDelDequeue(nowTicks, output, out packet, out okToDrop);
                if (!okToDrop)
                {
                    _dropping = false;
                }
                else
                {
                    _dropNext = ControlLaw(_dropNext, _count);
                }
            }
        }
        else if (okToDrop)
        {
            output.Drop(packet, DropReason.CoDel);
            has = CoDelDequeue(nowTicks, output, out packet, out _);
            _dropping = true;

            // Start near the previous drop rate when the last dropping state ended recently.
            var delta = _count - _lastCount;
            _count = 1;
            if (delta > 1 && nowTicks - _dropNext < 16 * _interval)
            {
                _count = delta;
            }

            _dropNext = ControlLaw(nowTicks, _count);
            _lastCount = _count;
        }

        return has;
    }

    private bool CoDelDequeue(long nowTicks, ILinkStageOutput output, out LinkPacket packet, out bool okToDrop)
    {
        okToDrop = false;
        if (_ring.Count == 0)
        {
            _firstAboveSet = false;
            packet = default;
            return false;
        }

        var queuedAt = _ring.Peek().Ticks;
        TakeHead(output, out packet);
        var sojourn = nowTicks - queuedAt;
        if (sojourn < _target || _ring.Bytes <= _maxPacket)
        {
            _firstAboveSet = false;
        }
        else if (!_firstAboveSet)
        {
            _firstAboveSet = true;
            _firstAboveTime = nowTicks + _interval;
        }
        else if (nowTicks >= _firstAboveTime)
        {
            okToDrop = true;
        }

        return true;
    }

    private bool TakeHead(ILinkStageOutput output, out LinkPacket packet)
    {
        if (_ring.Count == 0)
        {
            packet = default;
            return false;
        }

        packet = _ring.Dequeue().Packet;
        output.Counters.QueuePackets--;
        output.Counters.QueueBytes -= packet.Length;
        return true;
    }

    private long ControlLaw(long t, int count) => t + (long)(_interval / Math.Sqrt(count));
}
