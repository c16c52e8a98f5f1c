namespace TunTap.Emulation;

/// <summary>
/// Receives a <see cref="LinkModel"/>'s per-packet events. It is called on the data path, inside the
/// link's lock: it must return at once and allocate nothing (e.g. format into a pooled buffer and
/// leave the I/O to another thread).
/// </summary>
public interface ILinkEventSink
{
    /// <summary>Records one event.</summary>
    void Record(in LinkEvent linkEvent);
}
