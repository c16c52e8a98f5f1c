using System.Runtime.InteropServices;

namespace TunTap.Interop;

internal static partial class Libc
{
    internal const int EPOLL_CLOEXEC = 0x80000;

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    internal static partial int EpollCreate1(int flags);
}
