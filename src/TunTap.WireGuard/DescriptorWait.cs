using System.Runtime.InteropServices;
using TunTap.Interop;

namespace TunTap.WireGuard;

/// <summary>
/// Blocking waits for a descriptor to become readable, for the data-path loops on their own
/// threads: the kernel wakes the waiting thread itself, where an epoll thread handing over to a
/// pool thread costs a second switch per wakeup.
/// </summary>
internal static class DescriptorWait
{
    /// <summary>Waits up to <paramref name="timeoutMilliseconds"/>; true when the descriptor is readable or in error (the next read says which).</summary>
    public static unsafe bool WaitReadable(SafeHandle descriptor, int timeoutMilliseconds)
    {
        var added = false;
        try
        {
            descriptor.DangerousAddRef(ref added);
            var poll = new PollDescriptor { Fd = (int)descriptor.DangerousGetHandle(), Events = Libc.POLLIN };
            var result = Libc.Poll(&poll, 1, timeoutMilliseconds);
            return result != 0;
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
