namespace TunTap.Emulation;

/// <summary>Where a <see cref="ILinkStage"/> sends what it is done with.</summary>
public interface ILinkStageOutput
{
    /// <summary>The link's counters, for stages that count what they do (duplicates, corruption...).</summary>
    LinkCounters Counters { get; }

    /// <summary>Passes <paramref name="packet"/> to the next stage at <paramref name="nowTicks"/> (the current event time).</summary>
    void Forward(LinkPacket packet, long nowTicks);

    /// <summary>Drops <paramref name="packet"/>: counts it and returns its buffer.</summary>
    void Drop(LinkPacket packet, DropReason reason);

    /// <summary>Makes an independent copy of <paramref name="packet"/> (a new rented buffer) that enters the link as a new packet.</summary>
    LinkPacket Copy(LinkPacket packet);
}
