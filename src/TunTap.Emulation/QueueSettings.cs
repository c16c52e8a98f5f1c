namespace TunTap.Emulation;

/// <summary>
/// A bottleneck queue's limits and discipline, in ticks of the link's clock.
/// </summary>
/// <param name="LimitPackets">Most packets waiting (0 = no packet limit).</param>
/// <param name="LimitBytes">Most bytes waiting (0 = no byte limit).</param>
/// <param name="Discipline">Drop-tail or CoDel.</param>
/// <param name="CoDelTargetTicks">CoDel's acceptable standing queue delay (RFC 8289: 5 ms).</param>
/// <param name="CoDelIntervalTicks">CoDel's sliding window (RFC 8289: 100 ms).</param>
/// <param name="MaxPacketBytes">CoDel never drops when no more than this many bytes wait (an MTU).</param>
public readonly record struct QueueSettings(int LimitPackets, long LimitBytes, QueueDiscipline Discipline, long CoDelTargetTicks, long CoDelIntervalTicks, int MaxPacketBytes = 1514)
{
    internal BottleneckQueue CreateQueue()
    {
        OptionValidation.AtLeast("--queue", LimitPackets, 0, " packets");
        OptionValidation.AtLeast("--queue-bytes", LimitBytes, 0, " bytes");
        if (Discipline == QueueDiscipline.CoDel)
        {
            OptionValidation.AtLeast("--codel target", CoDelTargetTicks, 1, " ticks");
            OptionValidation.AtLeast("--codel interval", CoDelIntervalTicks, 1, " ticks");
        }

        return new BottleneckQueue(LimitPackets, LimitBytes, Discipline, CoDelTargetTicks, CoDelIntervalTicks, MaxPacketBytes);
    }
}
