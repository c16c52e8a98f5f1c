using System.Runtime.InteropServices;

namespace TunTap.Interop;

/// <summary><c>struct pollfd</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PollDescriptor
{
    /// <summary>fd.</summary>
    public int Fd;

    /// <summary>events: what to wait for (POLLIN...).</summary>
    public short Events;

    /// <summary>revents: what happened.</summary>
    public short ReturnedEvents;
}
