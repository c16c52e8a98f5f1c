using System.Runtime.InteropServices;

namespace TunTap.Interop;

internal static partial class Libc
{
    /// <summary><paramref name="events"/> points at <paramref name="maxEvents"/> <c>struct epoll_event</c>s (see <see cref="EpollEventLayout"/>).</summary>
    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    internal static unsafe partial int EpollWait(int epfd, byte* events, int maxEvents, int timeoutMilliseconds);
}
