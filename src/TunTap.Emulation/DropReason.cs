namespace TunTap.Emulation;

/// <summary>Why a link dropped a packet.</summary>
public enum DropReason
{
    /// <summary>The loss model chose to lose it.</summary>
    Loss,

    /// <summary>The bottleneck queue was at its limit (drop-tail).</summary>
    QueueFull,

    /// <summary>CoDel dropped it because the queue delay stood above target for an interval.</summary>
    CoDel,

    /// <summary>The delay line (netem's <c>limit</c>) held as many packets as it may.</summary>
    DelayLimit,

    /// <summary>
    /// The packets due out but not yet written to the destination device reached the link's output
    /// limit (<see cref="LinkModelOptions.OutputLimit"/>): the writer fell behind the source.
    /// </summary>
    OutputFull,
}
