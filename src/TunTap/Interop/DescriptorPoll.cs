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

    /// <summary>
    /// Waits up to <paramref name="timeoutMilliseconds"/> on two descriptors held by safe handles
    /// (an event set of 0 leaves one out); true when something came on either.
    /// </summary>
    public static unsafe bool Wait(SafeHandle first, short firstEvents, SafeHandle second, short secondEvents, int timeoutMilliseconds)
    {
        var addedFirst = false;
        var addedSecond = false;
        try
        {
            first.DangerousAddRef(ref addedFirst);
            second.DangerousAddRef(ref addedSecond);
            var polls = stackalloc PollDescriptor[2];
            polls[0] = new PollDescriptor { Fd = (int)first.DangerousGetHandle(), Events = firstEvents };
            polls[1] = new PollDescriptor { Fd = secondEvents == 0 ? -1 : (int)second.DangerousGetHandle(), Events = secondEvents };
            return Libc.Poll(polls, 2, timeoutMilliseconds) > 0;
        }
        finally
        {
            if (addedSecond)
            {
                second.DangerousRelease();
            }

            if (addedFirst)
            {
                first.DangerousRelease();
            }
        }
    }
}
