using System.Buffers;

namespace TunTap.Emulation;

/// <summary>
/// One direction of an emulated link: a chain of <see cref="ILinkStage"/>s driven by explicit
/// times. It is a pure, synchronous state machine: the caller offers packets with
/// <see cref="Enqueue"/>, takes due packets with <see cref="TryDequeue"/> and sleeps until
/// <see cref="NextDeparture"/>. Internal events run at their own scheduled times, not at the
/// times the caller happens to poll, so the departures depend only on the arrivals and the seed.
/// <see cref="ReplaceStages"/> swaps the chain for new arrivals while packets already inside finish
/// their way through the chain they entered (live model changes, e.g. an emulated handover).
/// </summary>
public sealed class LinkModel
{
    private readonly PacketRing _delivered = new();

    // Chains replaced by ReplaceStages that still hold packets; they run until empty.
    private readonly List<StageChain> _draining = [];
    private StageChain _chain;
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
        _chain = new StageChain(this, stages);
        _now = startTicks;
        StartTicks = startTicks;
    }

    /// <summary>Builds the stages <paramref name="options"/> asks for (see <see cref="LinkModelBuilder"/>).</summary>
    public static LinkModel Create(LinkModelOptions options, long ticksPerSecond, long startTicks, ulong seed, ICorruptionFixup? corruptionFixup = null)
        => new(LinkModelBuilder.BuildStages(options, ticksPerSecond, startTicks, seed, corruptionFixup), startTicks, options.OutputLimit)
        {
            CorruptionFixup = corruptionFixup,
        };

    /// <summary>Builds a link whose clock is <paramref name="timeProvider"/>'s timestamps (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public static LinkModel Create(LinkModelOptions options, TimeProvider timeProvider, ulong seed, ICorruptionFixup? corruptionFixup = null)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        return Create(options, timeProvider.TimestampFrequency, timeProvider.GetTimestamp(), seed, corruptionFixup);
    }

    /// <summary>The time origin of the link (traces start here).</summary>
    public long StartTicks { get; }

    /// <summary>The stages, in order.</summary>
    public IReadOnlyList<ILinkStage> Stages => _chain.Stages;

    /// <summary>
    /// Gives packets offered from now on a new chain of <paramref name="stages"/>. Packets already
    /// inside keep going through the chain they entered, so none is lost; the counters go on.
    /// </summary>
    public void ReplaceStages(IEnumerable<ILinkStage> stages)
    {
        ArgumentNullException.ThrowIfNull(stages);
        var next = new StageChain(this, stages);
        if (_chain.Packets > 0)
        {
            _draining.Add(_chain);
        }

        _chain = next;
    }

    /// <summary>The corruption fixup the model was created with (stages built later for it use it too), or null.</summary>
    public ICorruptionFixup? CorruptionFixup { get; init; }

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

            var next = _chain.NextEventTicks();
            foreach (var chain in _draining)
            {
                next = Math.Min(next, chain.NextEventTicks());
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
        _chain.Packets++;
        Record(LinkEventKind.Arrival, linkPacket, nowTicks);
        Forward(_chain, -1, linkPacket, nowTicks);
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
            var chain = _chain;
            chain.FindNext(ref due, ref index);
            for (var c = 0; c < _draining.Count; c++)
            {
                if (_draining[c].FindNext(ref due, ref index))
                {
                    chain = _draining[c];
                }
            }

            if (index < 0 || due > nowTicks)
            {
                break;
            }

            _now = Math.Max(_now, due);
            chain.Stages[index].Advance(due, chain.Outputs[index]);
        }

        _now = nowTicks;
        if (_draining.Count > 0)
        {
            _draining.RemoveAll(static chain => chain.Packets == 0);
        }
    }

    private void Forward(StageChain chain, int fromStage, LinkPacket packet, long nowTicks)
    {
        var next = fromStage + 1;
        if (next < chain.Stages.Length)
        {
            chain.Stages[next].Offer(packet, nowTicks, chain.Outputs[next]);
            return;
        }

        if (_delivered.Count >= OutputLimit)
        {
            Drop(chain, packet, DropReason.OutputFull);
            return;
        }

        chain.Packets--;
        Counters.InFlightPackets--;
        Counters.InFlightBytes -= packet.Length;
        Counters.Delivered++;
        Counters.DeliveredBytes += packet.Length;
        _delivered.Enqueue(packet.WithDeparture(nowTicks), nowTicks);
        Record(LinkEventKind.Departure, packet, nowTicks);
    }

    private void Drop(StageChain chain, LinkPacket packet, DropReason reason)
    {
        chain.Packets--;
        Counters.InFlightPackets--;
        Counters.InFlightBytes -= packet.Length;
        Counters.CountDrop(reason);
        Record(LinkEventKind.Drop, packet, _now, reason);
        Release(packet);
    }

    private LinkPacket Copy(StageChain chain, LinkPacket packet)
    {
        chain.Packets++;
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

    /// <summary>Stages in order, their outputs, and how many packets are inside them.</summary>
    private sealed class StageChain
    {
        public StageChain(LinkModel model, IEnumerable<ILinkStage> stages)
        {
            Stages = [.. stages];
            Outputs = new StageOutput[Stages.Length];
            for (var i = 0; i < Stages.Length; i++)
            {
                Outputs[i] = new StageOutput(model, this, i);
            }
        }

        public ILinkStage[] Stages { get; }

        public StageOutput[] Outputs { get; }

        public long Packets { get; set; }

        public long NextEventTicks()
        {
            var next = long.MaxValue;
            foreach (var stage in Stages)
            {
                next = Math.Min(next, stage.NextEventTicks);
            }

            return next;
        }

        /// <summary>Lowers <paramref name="due"/> to this chain's earliest event (downstream stages first on ties); true when it did.</summary>
        public bool FindNext(ref long due, ref int index)
        {
            var found = false;
            for (var i = Stages.Length - 1; i >= 0; i--)
            {
                var next = Stages[i].NextEventTicks;
                if (next < due)
                {
                    due = next;
                    index = i;
                    found = true;
                }
            }

            return found;
        }
    }

    private sealed class StageOutput(LinkModel model, StageChain chain, int index) : ILinkStageOutput
    {
        public LinkCounters Counters => model.Counters;

        public void Forward(LinkPacket packet, long nowTicks) => model.Forward(chain, index, packet, nowTicks);

        public void Drop(LinkPacket packet, DropReason reason) => model.Drop(chain, packet, reason);

        public LinkPacket Copy(LinkPacket packet) => model.Copy(chain, packet);
    }
}
