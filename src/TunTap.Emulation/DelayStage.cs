namespace TunTap.Emulation;

/// <summary>
/// netem's delay line: each packet is held for <c>delay ± jitter</c> (distribution and correlation
/// as <see cref="JitterSampler"/>) and released in due-time order, so jitter reorders packets unless
/// <see cref="KeepOrder"/> is set (then a packet never leaves before the one offered before it).
/// Reordering with probability and gap follows netem: with gap N, after N-1 delayed packets each
/// further packet is, with the reorder probability, sent at once (ahead of the delayed ones) and
/// the count restarts; otherwise it is delayed too. At most <see cref="Limit"/> packets are held
/// (netem's <c>limit</c>); more are dropped as <see cref="DropReason.DelayLimit"/>.
/// </summary>
public sealed class DelayStage : ILinkStage
{
    private readonly JitterSampler _sampler;
    private readonly LinkRandom _random;
    private readonly PacketHeap _heap;
    private CorrelatedChance _reorder;
    private long _lastDue = long.MinValue;
    private long _sinceReorder;

    /// <summary>Creates the delay line; times are in ticks of the link's clock.</summary>
    public DelayStage(long delayTicks, long jitterTicks, DelayDistribution distribution, double correlation, LinkRandom random,
        bool keepOrder = false, double reorderProbability = 0, double reorderCorrelation = 0, int reorderGap = 0, int limit = 1000)
    {
        OptionValidation.AtLeast("--delay", delayTicks, 0);
        OptionValidation.AtLeast("--jitter", jitterTicks, 0);
        OptionValidation.Probability("--delay correlation", correlation);
        OptionValidation.Probability("--reorder", reorderProbability);
        OptionValidation.Probability("--reorder correlation", reorderCorrelation);
        OptionValidation.AtLeast("--reorder gap", reorderGap, 0);
        OptionValidation.AtLeast("--limit", limit, 1, " packets");
        ArgumentNullException.ThrowIfNull(random);
        _sampler = new JitterSampler(delayTicks, jitterTicks, distribution, correlation);
        _random = random;
        _heap = new PacketHeap(Math.Min(limit, 1024));
        _reorder = new CorrelatedChance(reorderProbability, reorderCorrelation);
        KeepOrder = keepOrder;
        ReorderGap = reorderProbability > 0 && reorderGap == 0 ? 1 : reorderGap;
        Limit = limit;
    }

    /// <summary>Whether packets leave in the order they came (jitter then never reorders).</summary>
    public bool KeepOrder { get; }

    /// <summary>The reorder gap (0 = no reordering).</summary>
    public int ReorderGap { get; }

    /// <summary>The most packets held at once.</summary>
    public int Limit { get; }

    /// <summary>Packets held now.</summary>
    public int Count => _heap.Count;

    /// <inheritdoc />
    public long NextEventTicks => _heap.MinDue;

    /// <inheritdoc />
    public void Offer(LinkPacket packet, long nowTicks, ILinkStageOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_heap.Count >= Limit)
        {
            output.Drop(packet, DropReason.DelayLimit);
            return;
        }

        if (ReorderGap > 0 && _sinceReorder >= ReorderGap - 1 && _reorder.Next(_random))
        {
            _sinceReorder = 0;
            output.Counters.Reordered++;
            _heap.Push(packet, nowTicks);
            return;
        }

        var due = nowTicks + Math.Max(0, _sampler.Next(_random));
        if (KeepOrder)
        {
            due = Math.Max(due, _lastDue);
        }

        _lastDue = due;
        _sinceReorder++;
        _heap.Push(packet, due);
    }

    /// <inheritdoc />
    public void Advance(long nowTicks, ILinkStageOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        while (_heap.MinDue <= nowTicks)
        {
            output.Forward(_heap.Pop(), nowTicks);
        }
    }
}
