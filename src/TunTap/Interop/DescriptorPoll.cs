using System.Runtime.InteropServices;

namespace TunTap.Interop;

/// <summary>
/// Blocking waits in <c>poll()</c> for one descriptor, for loops that own their thread: the
/// kernel wakes the waiting thread itself, where an epoll thread handing over to a pool thread
/// costs a second switch per wakeup.
/// </summary>
internal static class DescriptorPoll
{
    /// <summary>Waits up to <paramref name="timeoutMilliseconds"/> for <paramref name="events"/> (POLLIN, POLLOUT); true when they (or an error) came.</summary>
    public static unsafe bool Wait(int fd, short events, int timeoutMilliseconds)
    {
        var poll = new PollDescriptor { Fd = fd, Events = events };
        return Libc.Poll(&poll, 1, timeoutMilliseconds) > 0;
    }

    /// <summary>The same for a descriptor held by a safe handle (kept open during the wait).</summary>
    public static bool Wait(SafeHandle descriptor, short events, int timeoutMilliseconds)
    {
        var added = false;
        try
        {
            descriptor.DangerousAddRef(ref added);
            return Wait((int)descriptor.DangerousGetHandle(), events, timeoutMilliseconds);
        }
        finally
        {
            if (added)
            {
                descriptor.DangerousRelease();
            }
        }
    }
}
