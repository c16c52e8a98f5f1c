using System.Runtime.InteropServices;

namespace TunTap.Interop;

internal static partial class Libc
{
    internal const int MSG_PEEK = 0x2;
    internal const int MSG_TRUNC = 0x20;

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    internal static unsafe partial nint Recv(int fd, void* buffer, nuint length, int flags);
}
