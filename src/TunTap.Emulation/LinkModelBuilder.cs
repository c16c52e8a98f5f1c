namespace TunTap.Emulation;

/// <summary>
/// Turns <see cref="LinkModelOptions"/> into a stage chain, in this order: loss, duplication,
/// corruption, delay line (delay, jitter, reordering), slots, bottleneck (rate or link trace, with
/// its queue), delay trace. Stages that would do nothing are left out. Each stage draws from its
/// own generator derived from the seed, so adding one knob does not change the others' draws.
/// </summary>
public static class LinkModelBuilder
{
    private const int LossStream = 1;
    private const int DuplicateStream = 2;
    private const int CorruptStream = 3;
    private const int DelayStream = 4;
    private const int SlotStream = 5;

    /// <summary>Builds the stages; throws <see cref="TunTapException"/> naming the first invalid option.</summary>
    public static IReadOnlyList<ILinkStage> BuildStages(LinkModelOptions options, long ticksPerSecond, long startTicks, ulong seed, ICorruptionFixup? corruptionFixup = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ticksPerSecond);
        OptionValidation.NonNegative("--delay", options.Delay);
        OptionValidation.NonNegative("--jitter", options.Jitter);
        OptionValidation.Probability("--delay correlation", options.DelayCorrelation);
        OptionValidation.Probability("--duplicate", options.Duplicate);
        OptionValidation.Probability("--duplicate correlation", options.DuplicateCorrelation);
        OptionValidation.Probability("--corrupt", options.Corrupt);
        OptionValidation.Probability("--corrupt correlation", options.CorruptCorrelation);
        OptionValidation.Probability("--reorder", options.Reorder);
        OptionValidation.Probability("--reorder correlation", options.ReorderCorrelation);
        OptionValidation.AtLeast("--rate", options.RateBitsPerSecond, 0, "bit/s");
        if (options.Reorder > 0 && options.Delay == TimeSpan.Zero)
        {
            throw new TunTapException("--reorder: reordering needs a delay", "add --delay, e.g. 'delay 10ms reorder 25%': reordered packets skip that delay");
        }

        if (options.RateBitsPerSecond > 0 && options.Trace is not null)
        {
            throw new TunTapException("--rate: a link has one bottleneck; --rate and --trace cannot both be set");
        }

        var stages = new List<ILinkStage>();
        if (options.Loss is not null)
        {
            stages.Add(new LossStage(options.Loss.CreateModel(), LinkRandom.ForStream(seed, LossStream)));
        }

        if (options.Duplicate > 0)
        {
            stages.Add(new DuplicationStage(options.Duplicate, options.DuplicateCorrelation, LinkRandom.ForStream(seed, DuplicateStream)));
        }

        if (options.Corrupt > 0)
        {
            stages.Add(new CorruptionStage(options.Corrupt, options.CorruptCorrelation, LinkRandom.ForStream(seed, CorruptStream), corruptionFixup));
        }

        if (options.Delay > TimeSpan.Zero || options.Jitter > TimeSpan.Zero || options.Reorder > 0)
        {
            stages.Add(new DelayStage(Ticks(options.Delay, ticksPerSecond), Ticks(options.Jitter, ticksPerSecond), options.Distribution, options.DelayCorrelation,
                LinkRandom.ForStream(seed, DelayStream), options.KeepOrder, options.Reorder, options.ReorderCorrelation, options.ReorderGap, options.Limit));
        }

        if (options.Slot is { } slot)
        {
            OptionValidation.NonNegative("--slot min", slot.MinDelay);
            if (slot.MaxDelay < slot.MinDelay)
            {
                throw new TunTapException($"--slot: max {slot.MaxDelay.TotalMilliseconds}ms is out of range; allowed {slot.MinDelay.TotalMilliseconds}ms (the min) or more");
            }

            stages.Add(new SlotStage(Ticks(slot.MinDelay, ticksPerSecond), Ticks(slot.MaxDelay, ticksPerSecond), slot.MaxPackets, slot.MaxBytes,
                LinkRandom.ForStream(seed, SlotStream), startTicks));
        }

        if (options.RateBitsPerSecond > 0)
        {
            stages.Add(new RateLimitStage(options.RateBitsPerSecond, ticksPerSecond, Queue(options, options.RateBitsPerSecond, ticksPerSecond),
                options.PacketOverhead, options.CellSize, options.CellOverhead));
        }
        else if (options.Trace is { } trace)
        {
            stages.Add(new TraceLinkStage(trace, ticksPerSecond, startTicks, Queue(options, trace.AverageBitsPerSecond(), ticksPerSecond), options.TraceLoop));
        }

        if (options.DelayTrace is { } delayTrace)
        {
            stages.Add(new DelayTraceStage(delayTrace, ticksPerSecond, startTicks, options.DelayTraceLoop));
        }

        return stages;
    }

    /// <summary>Converts <paramref name="span"/> to ticks of a clock running at <paramref name="ticksPerSecond"/>.</summary>
    public static long Ticks(TimeSpan span, long ticksPerSecond) => (long)((Int128)span.Ticks * ticksPerSecond / TimeSpan.TicksPerSecond);

    private static QueueSettings Queue(LinkModelOptions options, double bitsPerSecond, long ticksPerSecond)
    {
        var packets = options.QueueLimitPackets;
        var bytes = options.QueueLimitBytes;
        if (packets is null && bytes is null)
        {
            if (options.QueueDiscipline == QueueDiscipline.CoDel)
            {
                // CoDel keeps the delay down by itself; the limit only guards memory (Linux's default).
                packets = 1000;
            }
            else
            {
                var oneWay = options.Delay + (options.DelayTrace is { } d ? TimeSpan.FromMilliseconds(Mean(d.Milliseconds)) : TimeSpan.Zero);
                bytes = LinkModelOptions.DefaultQueueLimitBytes(bitsPerSecond, oneWay);
            }
        }

        OptionValidation.NonNegative("--codel target", options.CoDelTarget);
        OptionValidation.NonNegative("--codel interval", options.CoDelInterval);
        return new QueueSettings(packets ?? 0, bytes ?? 0, options.QueueDiscipline,
            Ticks(options.CoDelTarget, ticksPerSecond), Ticks(options.CoDelInterval, ticksPerSecond));
    }

    private static double Mean(ReadOnlySpan<double> values)
    {
        double sum = 0;
        foreach (var v in values)
        {
            sum += v;
        }

        return sum / values.Length;
    }
}
