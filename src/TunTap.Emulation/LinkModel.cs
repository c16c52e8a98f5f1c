using System.Buffers;

namespace TunTap.Emulation;

/// <summary>
/// One direction of an emulated link: a chain of <see cref="ILinkStage"/>s driven by explicit
/// times. It is a pure, synchronous state machine: the caller offers packets with
/// <see cref="Enqueue"/>, takes due packets with <see cref="TryDequeue"/> and sleeps until
/// <see cref="NextDeparture"/>. Internal events run at their own scheduled times, not at the
/// times the caller happens to poll, so the departures depend only on the arrivals and the seed.
/// </summary>
public sealed class LinkModel
{
    private readonly ILinkStage[] _stages;
    private readonly StageOutput[] _outputs;
    private readonly PacketRing _delivered = new();
    private ArrayPool<byte> _pool = ArrayPool<byte>.Shared;
    private long _now;
    private long _sequence;

    /// <summary>
    /// Chains <paramref name="stages"/> in order; <paramref name="startTicks"/> is the link's time origin;
    /// at most <paramref name="outputLimit"/> packets wait at the output (see <see cref="LinkModelOptions.OutputLimit"/>).
    /// </summary>
    public LinkModel(IEnumerable<ILinkStage> stages, long startTicks, int outputLimit = LinkModelOptions.DefaultOutputLimit)
    {
        ArgumentNullException.ThrowIfNull(stages);
        OptionValidation.AtLeast("--output-limit", outputLimit, 1, " packets");
        OutputLimit = outputLimit;
        _stages = [.. stages];
        _outputs = new StageOutput[_stages.Length];
        for (var i = 0; i < _stages.Length; i++)
        {
            _outputs[i] = new StageOutput(this, i);
        }

        _now = startTicks;
        StartTicks = startTicks;
    }

    /// <summary>Builds the stages <paramref name="options"/> asks for (see <see cref="LinkModelBuilder"/>).</summary>
    public static LinkModel Create(LinkModelOptions options, long ticksPerSecond, long startTicks, ulong seed, ICorruptionFixup? corruptionFixup = null)
        => new(LinkModelBuilder.BuildStages(options, ticksPerSecond, startTicks, seed, corruptionFixup), startTicks, options.OutputLimit);

    /// <summary>Builds a link whose clock is <paramref name="timeProvider"/>'s timestamps (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public static LinkModel Create(LinkModelOptions options, TimeProvider timeProvider, ulong seed, ICorruptionFixup? corruptionFixup = null)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        return Create(options, timeProvider.TimestampFrequency, timeProvider.GetTimestamp(), seed, corruptionFixup);
    }

    /// <summary>The time origin of the link (traces start here).</summary>
    public long StartTicks { get; }

    /// <summary>The stages, in order.</summary>
    public IReadOnlyList<ILinkStage> Stages => _stages;

    /// <summary>Most packets that may wait at the output; more are dropped as <see cref="DropReason.OutputFull"/>.</summary>
    public int OutputLimit { get; }

    /// <summary>Packets due out and not yet taken by <see cref="TryDequeue"/>.</summary>
    public int OutputPackets => _delivered.Count;

    /// <summary>
    /// Receives every arrival, departure, drop and duplicate, or null. Set it before the first packet;
    /// it is called from whichever thread drives the link.
    /// </summary>
    public ILinkEventSink? EventSink { get; set; }

    /// <summary>What the link did so far.</summary>
    public LinkCounters Counters { get; } = new();

    /// <summary>
    /// When the caller should next call <see cref="TryDequeue"/>: the departure time of the first
    /// ready packet, or the time of the next internal event; null when the link is empty.
    /// </summary>
    public long? NextDeparture
    {
        get
        {
            if (_delivered.Count > 0)
            {
                return _delivered.Peek().Packet.DepartureTicks;
            }

            var next = long.MaxValue;
            foreach (var stage in _stages)
            {
                next = Math.Min(next, stage.NextEventTicks);
            }

            return next == long.MaxValue ? null : next;
        }
    }

    /// <summary>Offers a copy of <paramref name="packet"/> to the link at <paramref name="nowTicks"/>.</summary>
    public void Enqueue(ReadOnlySpan<byte> packet, long nowTicks)
    {
        Advance(nowTicks);
        var buffer = _pool.Rent(Math.Max(1, packet.Length));
        packet.CopyTo(buffer);
        var linkPacket = new LinkPacket(buffer, packet.Length, _sequence++, nowTicks, 0);
        Counters.Enqueued++;
        Counters.EnqueuedBytes += packet.Length;
        Counters.InFlightPackets++;
        Counters.InFlightBytes += packet.Length;
        Record(LinkEventKind.Arrival, linkPacket, nowTicks);
        Forward(-1, linkPacket, nowTicks);
    }

    /// <summary>
    /// Takes the next packet whose departure time is at or before <paramref name="nowTicks"/>, in
    /// departure order. The caller owns the packet and hands it back with <see cref="Release"/>.
    /// </summary>
    public bool TryDequeue(long nowTicks, out LinkPacket packet)
    {
        Advance(nowTicks);
        if (_delivered.Count == 0)
        {
            packet = default;
            return false;
        }

        packet = _delivered.Dequeue().Packet;
        return true;
    }

    /// <summary>Returns a dequeued packet's buffer to the link's pool (any thread may call this).</summary>
    public void Release(LinkPacket packet)
    {
        if (packet.Buffer is { Length: > 0 })
        {
            _pool.Return(packet.Buffer);
        }
    }

    /// <summary>
    /// Rents packet buffers from <paramref name="pool"/> instead of <see cref="ArrayPool{T}.Shared"/>
    /// (whose per-thread caches hold few buffers when one thread rents and another returns).
    /// Only before the first packet.
    /// </summary>
    internal void UseBufferPool(ArrayPool<byte> pool)
    {
        if (Counters.Enqueued != 0)
        {
            throw new InvalidOperationException("The link already holds packets from its current pool.");
        }

        _pool = pool;
    }

    /// <summary>Runs every internal event due at or before <paramref name="nowTicks"/>, in time order.</summary>
    public void Advance(long nowTicks)
    {
        if (nowTicks < _now)
        {
            throw new ArgumentOutOfRangeException(nameof(nowTicks), nowTicks, $"Time went backwards: {nowTicks} is before {_now}.");
        }

        while (true)
        {
            // Downstream stages first on ties, so a stage receiving a packet at t has already
            // run everything it had due at t.
            var due = long.MaxValue;
            var index = -1;
            for (var i = _stages.Length - 1; i >= 0; i--)
            {
                var next = _stages[i].NextEventTicks;
                if (next < due)
                {
                    due = next;
                    index = i;
                }
            }

            if (index < 0 || due > nowTicks)
            {
                break;
            }

            _now = Math.Max(_now, due);
            _stages[index].Advance(due, _outputs[index]);
        }

        _now = nowTicks;
    }

    private void Forward(int fromStage, LinkPacket packet, long nowTicks)
    {
        var next = fromStage + 1;
        if (next < _stages.Length)
        {
            _stages[next].Offer(packet, nowTicks, _outputs[next]);
            return;
        }

        if (_delivered.Count >= OutputLimit)
        {
            Drop(packet, DropReason.OutputFull);
            return;
        }

        Counters.InFlightPackets--;
        Counters.InFlightBytes -= packet.Length;
        Counters.Delivered++;
        Counters.DeliveredBytes += packet.Length;
        _delivered.Enqueue(packet.WithDeparture(nowTicks), nowTicks);
        Record(LinkEventKind.Departure, packet, nowTicks);
    }

    private void Drop(LinkPacket packet, DropReason reason)
    {
        Counters.InFlightPackets--;
        Counters.InFlightBytes -= packet.Length;
        Counters.CountDrop(reason);
        Record(LinkEventKind.Drop, packet, _now, reason);
        Release(packet);
    }

    private LinkPacket Copy(LinkPacket packet)
    {
        var buffer = _pool.Rent(Math.Max(1, packet.Length));
        packet.Span.CopyTo(buffer);
        Counters.InFlightPackets++;
        Counters.InFlightBytes += packet.Length;
        var copy = new LinkPacket(buffer, packet.Length, _sequence++, packet.ArrivalTicks, 0);
        Record(LinkEventKind.Duplicate, copy, _now);
        return copy;
    }

    private void Record(LinkEventKind kind, LinkPacket packet, long ticks, DropReason reason = default) =>
        EventSink?.Record(new LinkEvent(ticks, kind, packet.Sequence, packet.Length, Counters.QueuePackets, Counters.QueueBytes,
            Counters.InFlightPackets + _delivered.Count, reason));

    private sealed class StageOutput(LinkModel model, int index) : ILinkStageOutput
    {
        public LinkCounters Counters => model.Counters;

        public void Forward(LinkPacket packet, long nowTicks) => model.Forward(index, packet, nowTicks);

        public void Drop(LinkPacket packet, DropReason reason) => model.Drop(packet, reason);

        public LinkPacket Copy(LinkPacket packet) => model.Copy(packet);
    }
}
