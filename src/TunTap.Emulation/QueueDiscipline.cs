namespace TunTap.Emulation;

/// <summary>How a bottleneck queue decides what to drop.</summary>
public enum QueueDiscipline
{
    /// <summary>Drop arrivals once the queue is at its limit.</summary>
    DropTail,

    /// <summary>CoDel (RFC 8289): drop at dequeue while the queue delay stays above target for an interval; the limit still caps the queue.</summary>
    CoDel,
}
